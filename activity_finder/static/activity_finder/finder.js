/* Progressive enhancement for the activity finder: filters apply without a
   reload, the URL keeps the state (history.pushState) and Back works. The
   page is a plain GET form without this script; every request here asks the
   server for the same page and copies the fresh parts in, so there is one
   source of truth for results, counts and disabled options. */
(function () {
  "use strict";

  var root = document.querySelector("[data-finder]");
  if (!root || !window.fetch || !window.history || !window.DOMParser || !window.URLSearchParams) {
    return;
  }
  var form = root.querySelector("[data-finder-form]");
  var body = root.querySelector("[data-finder-results]");
  var status = root.querySelector("[data-finder-count]");
  var pending = null;
  var typing = null;

  function formQuery() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value === "") return;
      if (key === "per_page" && value === "25") return;
      params.append(key, value);
    });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function syncForm(fresh, withValues) {
    var inputs = form.querySelectorAll("input[id], select[id]");
    Array.prototype.forEach.call(inputs, function (input) {
      var other = fresh.querySelector("#" + CSS.escape(input.id));
      if (!other) return;
      input.disabled = other.disabled;
      if (withValues) {
        if (input.type === "checkbox") input.checked = other.checked;
        else input.value = other.value;
      }
      var label = form.querySelector('label[for="' + input.id + '"]');
      var otherLabel = fresh.querySelector('label[for="' + input.id + '"]');
      if (label && otherLabel && label.innerHTML !== otherLabel.innerHTML) {
        label.innerHTML = otherLabel.innerHTML;
      }
      var item = input.closest("li");
      var otherItem = other.closest("li");
      if (item && otherItem) item.className = otherItem.className;
    });
  }

  function load(url, options) {
    if (pending) pending.abort();
    pending = new AbortController();
    body.setAttribute("aria-busy", "true");
    return fetch(url, {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
      signal: pending.signal
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var freshBody = page.querySelector("[data-finder-results]");
        var freshForm = page.querySelector("[data-finder-form]");
        var freshStatus = page.querySelector("[data-finder-count]");
        if (!freshBody || !freshForm || !freshStatus) throw new Error("unexpected page");
        body.innerHTML = freshBody.innerHTML;
        syncForm(freshForm, options.withValues);
        // The live region stays in place; only its text changes, so screen
        // readers announce the new count.
        status.textContent = freshStatus.textContent;
        document.title = page.title;
        body.removeAttribute("aria-busy");
        if (options.focusResults) {
          var heading = document.getElementById("results-heading");
          if (heading) heading.focus();
        }
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        // Anything unexpected: let the browser load the page itself.
        window.location.assign(url);
      });
  }

  function apply(replace) {
    var url = formQuery();
    if (url === window.location.pathname + window.location.search) return;
    if (replace) window.history.replaceState({ finder: true }, "", url);
    else window.history.pushState({ finder: true }, "", url);
    load(url, { withValues: false });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "keywords") return;
    apply(false);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(typing);
    apply(false);
  });

  form.addEventListener("input", function (event) {
    if (event.target.name !== "keywords") return;
    window.clearTimeout(typing);
    typing = window.setTimeout(function () { apply(true); }, 500);
  });

  root.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-finder-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    var url = link.getAttribute("href");
    if (url.charAt(0) === "?") url = form.getAttribute("action") + url;
    window.history.pushState({ finder: true }, "", url);
    load(url, { withValues: true, focusResults: true });
  });

  window.addEventListener("popstate", function () {
    load(window.location.pathname + window.location.search, { withValues: true });
  });

  root.classList.add("is-enhanced");
})();
