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
  // The inspector's keys: j / k move, Enter opens, Esc closes, / searches. Keys typed into a field are the field's (Esc excepted).
  onInspectorKeys: function (dotnet) {
    window.deliveryConsole.offInspectorKeys();
    window.__dcInspectorKeys = function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      const target = event.target;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
      if (typing && event.key !== "Escape") {
        return;
      }
      if (document.querySelector(".mud-dialog-container") && event.key !== "Escape") {
        return;
      }
      if (["j", "k", "Enter", "Escape", "/"].includes(event.key)) {
        if (event.key === "/" || event.key === "j" || event.key === "k") {
          event.preventDefault();
        }
        if (event.key === "Enter" && target && (target.tagName === "BUTTON" || target.tagName === "A")) {
          return;
        }
        dotnet.invokeMethodAsync("OnInspectorKeyAsync", event.key);
      }
    };
    document.addEventListener("keydown", window.__dcInspectorKeys);
  },
  offInspectorKeys: function () {
    if (window.__dcInspectorKeys) {
      document.removeEventListener("keydown", window.__dcInspectorKeys);
      window.__dcInspectorKeys = null;
    }
  },
  // Keeps the keyboard's row in view.
  scrollToRow: function (index) {
    const rows = document.querySelectorAll("[data-testid='deliveries-grid'] tbody tr.delivery-row");
    if (rows[index]) {
      rows[index].scrollIntoView({ block: "nearest" });
    }
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

// The skip link moves focus into the page's main landmark (the page keeps its address: Blazor's
// router would otherwise take the fragment link for a navigation). Capture phase, so the router
// sees the click as handled.
document.addEventListener("click", function (event) {
  const link = event.target instanceof Element ? event.target.closest(".skip-link") : null;
  const main = link ? document.getElementById("main-content") : null;
  if (main) {
    event.preventDefault();
    main.focus();
  }
}, true);

// MudBlazor's input icon buttons (a field's clear button, a picker's opener) render without a
// name; screen readers would announce only "button". Name them as they appear.
(function () {
  function nameInputButtons(root) {
    root.querySelectorAll(".mud-input-control button:not([aria-label]):not([aria-labelledby])").forEach(function (button) {
      if (button.textContent.trim() !== "") {
        return;
      }

      const field = button.closest(".mud-input-control");
      const label = field ? field.querySelector("label") : null;
      const what = label && label.textContent.trim() ? " " + label.textContent.trim() : "";
      button.setAttribute("aria-label", button.classList.contains("mud-input-clear-button") || button.querySelector("path[d^='M19 6.41']")
        ? "Clear" + what : "Open" + what);
    });
  }

  new MutationObserver(function () { nameInputButtons(document); })
    .observe(document.documentElement, { childList: true, subtree: true });
})();
