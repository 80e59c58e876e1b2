// Remember the browser's time zone so the server shows dates where the viewer is.
(function () {
  function storedZone() {
    var match = document.cookie.match(/(?:^|; )tz=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) return;
    var current = storedZone();
    if (current !== zone) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
      // Reload once on the first visit, and only if the cookie really was stored (a browser
      // that blocks cookies would otherwise reload forever).
      if (!current && storedZone() === zone) window.location.reload();
    }
  } catch (e) { /* no Intl support: dates stay in UTC */ }
})();
