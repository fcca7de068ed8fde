// Remembers the browser's time zone in a cookie so the sales pages show dates
// in the user's own time (the server reads it; nothing else runs here).
(function () {
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!tz) return;
    var value = encodeURIComponent(tz);
    if (document.cookie.split("; ").indexOf("tz=" + value) === -1) {
      document.cookie = "tz=" + value + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) {
    /* Older browsers: the site's time zone is used. */
  }
})();
