/* glossary: instant search and hover previews. No dependencies; works opened from disk.
   The search index is two script files loaded on first use (focus on the search box,
   "/" or a hover over a term link), never inlined in pages. */
(function () {
  "use strict";
  var script = document.currentScript;
  var assets = script ? new URL(".", script.src) : new URL("assets/", document.baseURI);
  var MAX_RESULTS = 8;

  // -- the index ---------------------------------------------------------------
  var index = {terms: null, summaries: null, categories: [], prepared: null};
  var waiting = [];
  var requested = {};

  window.GlossarySearch = {
    names: function (data) {
      index.terms = data.terms;
      index.categories = data.categories;
      index.prepared = data.terms.map(function (t, i) {
        return {i: i, title: fold(t[1]), aliases: t[2].map(fold)};
      });
      notify();
    },
    summaries: function (list) {
      index.summaries = list;
      index.prepared.forEach(function (entry, i) { entry.summary = fold(list[i]); });
      notify();
      refreshers.forEach(function (refresh) { refresh(); });
    }
  };
  var refreshers = []; // open result lists redraw when the summaries arrive

  function notify() {
    var callbacks = waiting;
    waiting = [];
    callbacks.forEach(function (callback) { callback(); });
  }

  function load(then) {
    if (then) waiting.push(then);
    ["search-names.js", "search-summaries.js"].forEach(function (name) {
      if (requested[name]) return;
      requested[name] = true;
      var tag = document.createElement("script");
      tag.src = new URL(name, assets).href;
      tag.async = false; // names first, then summaries
      document.head.appendChild(tag);
    });
    if (index.terms && then) notify();
  }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function termUrl(slug) {
    return new URL("../terms/" + slug + "/index.html", assets).href;
  }

  // -- matching ----------------------------------------------------------------
  function words(text) {
    return text.split(/[^\p{L}\p{N}+#]+/u).filter(Boolean);
  }

  function withinOneOrTwo(a, b) {
    // typo tolerance: a is within 1 edit (2 for long words) of some prefix of b, counting a swap
    // of neighbouring letters as one edit (optimal string alignment distance)
    var limit = a.length >= 8 ? 2 : 1;
    b = b.slice(0, a.length + limit);
    var before = null;
    var previous = [];
    for (var j = 0; j <= b.length; j++) previous.push(j);
    for (var i = 1; i <= a.length; i++) {
      var row = [i];
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var best = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
        if (before && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          best = Math.min(best, before[j - 2] + 1);
        }
        row.push(best);
      }
      before = previous;
      previous = row;
    }
    for (j = Math.max(0, a.length - limit); j <= b.length; j++) {
      if (previous[j] <= limit) return true;
    }
    return false;
  }

  function scoreField(field, query, tokens) {
    if (field === query) return 100;
    if (field.indexOf(query) === 0) return 80;
    var fieldWords = words(field);
    var all = tokens.every(function (token) {
      return fieldWords.some(function (word) { return word.indexOf(token) === 0; });
    });
    if (all) return 60;
    if (field.indexOf(query) >= 0) return 40;
    var fuzzy = tokens.every(function (token) {
      return fieldWords.some(function (word) {
        return word.indexOf(token) === 0 || (token.length >= 4 && withinOneOrTwo(token, word));
      });
    });
    return fuzzy ? 25 : 0;
  }

  function search(raw) {
    var query = fold(raw.trim().replace(/\s+/g, " "));
    if (!query || !index.prepared) return [];
    var tokens = words(query);
    if (!tokens.length) return [];
    var found = [];
    index.prepared.forEach(function (entry) {
      var score = scoreField(entry.title, query, tokens) * 1.1;
      var alias = null;
      entry.aliases.forEach(function (name, k) {
        var s = scoreField(name, query, tokens);
        if (s > score) { score = s; alias = k; }
      });
      if (!score && entry.summary) {
        var summaryWords = words(entry.summary);
        if (tokens.every(function (t) { return summaryWords.some(function (w) { return w.indexOf(t) === 0; }); })) {
          score = 10;
        }
      }
      if (score) found.push({i: entry.i, score: score, alias: alias});
    });
    found.sort(function (a, b) { return b.score - a.score || a.i - b.i; });
    return found.slice(0, MAX_RESULTS).map(function (hit) { hit.tokens = tokens; return hit; });
  }

  // Text with the words that match a query token marked; built from text nodes, never HTML.
  function marked(text, tokens) {
    var fragment = document.createDocumentFragment();
    var folded = fold(text);
    var cursor = 0;
    var pattern = /[\p{L}\p{N}+#]+/gu;
    var match;
    while ((match = pattern.exec(folded)) !== null) {
      var hit = tokens.some(function (t) { return match[0].indexOf(t) === 0 || (t.length >= 4 && withinOneOrTwo(t, match[0])); });
      if (!hit) continue;
      fragment.appendChild(document.createTextNode(text.slice(cursor, match.index)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(match.index, match.index + match[0].length);
      fragment.appendChild(mark);
      cursor = match.index + match[0].length;
    }
    fragment.appendChild(document.createTextNode(text.slice(cursor)));
    return fragment;
  }

  // -- the search box ----------------------------------------------------------
  function setUpSearch(box) {
    var input = box.querySelector("input");
    var list = box.querySelector("[role=listbox]");
    var status = box.querySelector(".search-status");
    var results = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(position) {
      var options = list.querySelectorAll("[role=option]");
      active = position;
      Array.prototype.forEach.call(options, function (option, k) {
        option.setAttribute("aria-selected", k === position ? "true" : "false");
      });
      if (position >= 0 && options[position]) {
        input.setAttribute("aria-activedescendant", options[position].id);
        options[position].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render() {
      results = search(input.value);
      list.textContent = "";
      if (!input.value.trim()) {
        status.textContent = "";
        return close();
      }
      results.forEach(function (hit, k) {
        var term = index.terms[hit.i];
        var option = document.createElement("li");
        option.id = box.id + "-option-" + k;
        option.setAttribute("role", "option");
        // an option holds text only (a link inside would be a control within a control);
        // the option itself navigates on click, the box on Enter
        var link = document.createElement("span");
        link.className = "result";
        option.dataset.href = termUrl(term[0]);
        var title = document.createElement("span");
        title.className = "result-title";
        title.appendChild(marked(term[1], hit.tokens));
        link.appendChild(title);
        if (hit.alias !== null) {
          var aka = document.createElement("span");
          aka.className = "result-alias";
          aka.appendChild(document.createTextNode(" ("));
          aka.appendChild(marked(term[2][hit.alias], hit.tokens));
          aka.appendChild(document.createTextNode(")"));
          link.appendChild(aka);
        }
        if (index.summaries) {
          var summary = document.createElement("span");
          summary.className = "result-summary";
          summary.textContent = index.summaries[hit.i];
          link.appendChild(summary);
        }
        option.appendChild(link);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { window.location.href = option.dataset.href; });
        list.appendChild(option);
      });
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "search-empty";
        none.textContent = index.terms ? "No term matches \u201c" + input.value.trim() + "\u201d." : "Loading\u2026";
        list.appendChild(none);
      }
      status.textContent = index.terms ? results.length + (results.length === 1 ? " result" : " results") : "";
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(results.length ? 0 : -1);
    }

    refreshers.push(function () { if (!list.hidden) render(); });
    input.addEventListener("focus", function () { load(render); });
    input.addEventListener("input", function () { load(render); });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) render();
        if (!results.length) return;
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + results.length) % results.length);
      } else if (event.key === "Enter") {
        var target = results[active >= 0 ? active : 0];
        if (target) {
          event.preventDefault();
          window.location.href = termUrl(index.terms[target.i][0]);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        } else {
          input.value = "";
        }
      }
    });
    box.querySelector("form").addEventListener("submit", function (event) { event.preventDefault(); });
    box.classList.add("ready");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var input = document.querySelector(".site-search input");
    if (input) {
      event.preventDefault();
      input.focus();
    }
  });

  // -- previews ----------------------------------------------------------------
  var card = null;
  var owner = null;
  var closing = null;

  function bySlug(slug) {
    if (!index.terms) return -1;
    if (!index.slugs) {
      index.slugs = {};
      index.terms.forEach(function (t, i) { index.slugs[t[0]] = i; });
    }
    return slug in index.slugs ? index.slugs[slug] : -1;
  }

  function fillCard(link) {
    var i = bySlug(link.dataset.term);
    var term = i >= 0 ? index.terms[i] : null;
    card.textContent = "";
    var title = document.createElement("strong");
    title.className = "preview-title";
    title.textContent = term ? term[1] : link.textContent;
    card.appendChild(title);
    if (term && term[2].length) {
      var aka = document.createElement("span");
      aka.className = "preview-aliases";
      aka.textContent = "Also: " + term[2].join(", ");
      card.appendChild(aka);
    }
    var summary = document.createElement("span");
    summary.className = "preview-summary";
    summary.textContent = (i >= 0 && index.summaries) ? index.summaries[i] : (link.dataset.summary || "");
    card.appendChild(summary);
  }

  function place(link) {
    var box = link.getBoundingClientRect();
    var width = Math.min(320, document.documentElement.clientWidth - 16);
    card.style.width = width + "px";
    var left = Math.min(Math.max(8, box.left + window.scrollX), window.scrollX + document.documentElement.clientWidth - width - 8);
    var below = box.bottom + 8;
    var height = card.offsetHeight;
    var top = below + height < window.innerHeight ? below + window.scrollY : box.top + window.scrollY - height - 8;
    card.style.left = left + "px";
    card.style.top = Math.max(window.scrollY + 4, top) + "px";
  }

  function open(link) {
    clearTimeout(closing);
    if (!card) {
      card = document.createElement("div");
      card.id = "term-preview";
      card.className = "preview";
      card.setAttribute("role", "tooltip");
      card.addEventListener("mouseenter", function () { clearTimeout(closing); });
      card.addEventListener("mouseleave", function () { later(); });
      (document.querySelector("main") || document.body).appendChild(card); // inside a landmark
    }
    if (owner && owner !== link) owner.removeAttribute("aria-describedby");
    owner = link;
    link.setAttribute("aria-describedby", "term-preview");
    fillCard(link);
    card.hidden = false;
    place(link);
    load(function () { if (owner === link && !card.hidden) { fillCard(link); place(link); } });
  }

  function shut() {
    clearTimeout(closing);
    if (card) card.hidden = true;
    if (owner) owner.removeAttribute("aria-describedby");
    owner = null;
  }

  function later() {
    clearTimeout(closing);
    closing = setTimeout(shut, 200);
  }

  function previewable(element) {
    var link = element && element.closest ? element.closest("a[data-term]") : null;
    if (!link || (card && card.contains(link)) || link.closest(".site-search")) return null;
    return link;
  }

  function setUpPreviews() {
    Array.prototype.forEach.call(document.querySelectorAll("a[data-term][title]"), function (link) {
      link.dataset.summary = link.getAttribute("title"); // the card replaces the native tooltip
      link.removeAttribute("title");
    });
    var hover = window.matchMedia("(hover: hover)").matches;
    if (hover) {
      document.addEventListener("mouseover", function (event) {
        var link = previewable(event.target);
        if (link) open(link);
      });
      document.addEventListener("mouseout", function (event) {
        if (previewable(event.target) && !(card && card.contains(event.relatedTarget))) later();
      });
    }
    document.addEventListener("focusin", function (event) {
      var link = previewable(event.target);
      if (link && link.matches(":focus-visible")) open(link);
    });
    document.addEventListener("focusout", function (event) {
      if (previewable(event.target)) shut();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && card && !card.hidden) shut();
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".site-search"), setUpSearch);
    setUpPreviews();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
