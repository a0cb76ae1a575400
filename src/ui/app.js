// Copy buttons: <button data-copy="element-id"> copies that element's text and says so in the
// row's .copy-status (a live region). navigator.clipboard exists only in a secure context
// (https, localhost), so on a first run at http://IP:8080 the text is selected and copied with
// execCommand("copy"); where even that is refused, the selection stays for the user to copy.
(function () {
  var COPIED = "Copied";
  var BY_HAND = "Press Ctrl+C / \u2318C to copy the selected text, or long-press it and choose Copy";

  function say(button, text) {
    var row = button.closest(".copyrow");
    var status = row && row.querySelector(".copy-status");
    if (!status) return;
    clearTimeout(status.clearing);
    status.textContent = text;
    if (text === COPIED) {
      status.clearing = setTimeout(function () { status.textContent = ""; }, 5000);
    }
  }

  function selectAndCopy(source) {
    source.focus();
    if (source.select) {
      source.select();
      source.setSelectionRange(0, source.value.length);
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var fallback = function () { say(button, selectAndCopy(source) ? COPIED : BY_HAND); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(button, COPIED); }, fallback);
    } else {
      fallback();
    }
  });
})();
