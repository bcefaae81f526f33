// Small browser helpers the console calls through JS interop.
window.deliveryConsole = {
  // The operator's IANA time zone, for showing scheduled times as they will be lived.
  timeZone: function () {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch {
      return "UTC";
    }
  },
  // Ctrl+K (Cmd+K on a Mac) opens "Find anything" wherever the focus is.
  onFindShortcut: function (dotnet) {
    if (window.__dcFindShortcut) {
      document.removeEventListener("keydown", window.__dcFindShortcut);
    }
    window.__dcFindShortcut = function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && (event.key === "k" || event.key === "K")) {
        event.preventDefault();
        dotnet.invokeMethodAsync("OpenFindAsync");
      }
    };
    document.addEventListener("keydown", window.__dcFindShortcut);
  },
  copyText: async function (text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Clipboard API needs a secure context; fall back to a hidden textarea.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      document.body.removeChild(area);
      return ok;
    }
  }
};
