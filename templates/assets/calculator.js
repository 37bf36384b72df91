/* Calculator widgets: read the form, run the generated formula, show the results.
   All arithmetic and formatting lives in formulas.js, generated from the Python
   formulas; this file only wires inputs, presets and the shareable URL. */
(function () {
  "use strict";
  var api = window.GlossaryFormulas;
  if (!api) return;

  function fields(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[type=number], select"));
  }

  function sliderFor(form, name) {
    return form.querySelector('input[type=range][data-for="' + name + '"]');
  }

  function syncSlider(form, field) {
    var slider = sliderFor(form, field.name);
    var value = Number(field.value);
    if (!slider || field.value === "" || !isFinite(value)) return;
    slider.value = slider.dataset.scale === "log" ? Math.log10(Math.max(value, 1)) : value;
  }

  function fromSlider(form, slider) {
    var field = form.querySelector('[name="' + slider.dataset.for + '"]');
    var value = Number(slider.value);
    if (slider.dataset.scale === "log") {
      value = Math.pow(10, value);
      var digits = Math.max(0, 2 - Math.floor(Math.log10(value)));
      value = Number(value.toPrecision(3));
      if (digits === 0) value = Math.round(value);
    }
    field.value = String(value);
  }

  function readValues(form) {
    var values = {};
    var problems = [];
    fields(form).forEach(function (field) {
      if (field.tagName === "SELECT") {
        values[field.name] = field.value;
        return;
      }
      var label = form.querySelector('label[for="' + field.id + '"]').firstChild.textContent.trim();
      var value = Number(field.value);
      var problem = null;
      if (field.value.trim() === "" || !isFinite(value)) {
        problem = label + " needs a number.";
      } else if (field.min !== "" && value < Number(field.min)) {
        problem = label + " must be at least " + field.min + ".";
      } else if (field.max !== "" && value > Number(field.max)) {
        problem = label + " must be at most " + field.max + ".";
      }
      field.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) problems.push(problem);
      values[field.name] = value;
    });
    return {values: values, problems: problems};
  }

  function compute(form) {
    var read = readValues(form);
    var error = form.querySelector(".calc-error");
    if (read.problems.length) {
      error.textContent = read.problems.join(" ");
      error.hidden = false;
      return false;
    }
    error.hidden = true;
    var results = api.run(form.dataset.formula, read.values);
    Object.keys(results).forEach(function (name) {
      var output = form.querySelector('output[name="' + name + '"]');
      if (output) output.textContent = results[name].text;
    });
    form.querySelector(".calc-share").href = "#" + stateFor(form).toString();
    return true;
  }

  function update(form) {
    if (compute(form)) remember(form);
  }

  function releasePresets(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-preset]"), function (button) {
      button.setAttribute("aria-pressed", "false");
    });
  }

  // -- state in the URL: #key.name=value&key.name=value --------------------
  function currentState() {
    var hash = window.location.hash.slice(1);
    return new URLSearchParams(hash.indexOf("=") >= 0 ? hash : "");
  }

  function stateFor(form) {
    var state = currentState();
    var key = form.dataset.key;
    fields(form).forEach(function (field) {
      state.set(key + "." + field.name, field.value);
    });
    return state;
  }

  function remember(form) {
    var url = window.location.pathname + window.location.search + "#" + stateFor(form).toString();
    try {
      window.history.replaceState(null, "", url);
    } catch (e) {
      /* some browsers refuse replaceState on file:// pages; the link still carries the state */
    }
  }

  function restore(form) {
    var state = currentState();
    var key = form.dataset.key;
    var found = false;
    fields(form).forEach(function (field) {
      var value = state.get(key + "." + field.name);
      if (value === null) return;
      if (field.tagName === "SELECT" && !field.querySelector('option[value="' + CSS.escape(value) + '"]')) return;
      field.value = value;
      syncSlider(form, field);
      found = true;
    });
    return found;
  }

  function applyPreset(form, id) {
    var preset = api.presets[id];
    if (!preset) return;
    fields(form).forEach(function (field) {
      if (!(field.name in preset.values)) return;
      var value = preset.values[field.name];
      field.value = typeof value === "number" ? String(value) : value;
      syncSlider(form, field);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-preset]"), function (button) {
      button.setAttribute("aria-pressed", button.dataset.preset === id ? "true" : "false");
    });
  }

  function setUp(form) {
    form.classList.add("live");
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", function (event) {
      var target = event.target;
      if (target.type === "range") {
        fromSlider(form, target);
      } else {
        syncSlider(form, target);
      }
      releasePresets(form);
      update(form);
    });
    form.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT") {
        releasePresets(form);
        update(form);
      }
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-preset]");
      if (!button) return;
      applyPreset(form, button.dataset.preset);
      update(form);
    });
    var restored = restore(form);
    compute(form);
    if (restored) form.scrollIntoView();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form.calculator"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
