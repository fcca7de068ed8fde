// The lead page: a note typed but not yet added is never dropped without a word.
// - Saving another action (status, owner, follow-up, convert) posts the note with
//   it, and the server adds both or neither (leads.views.LeadActionView).
// - Leaving the page any other way with a note in the box asks first.
// Without this script the forms work as they are; only this safety net is missing.
(function () {
  var note = document.getElementById("id_body");
  if (!note) return;
  var submitting = false;

  function typed() {
    return note.value.trim() !== "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form === note.form) {
      submitting = true;
      return;
    }
    if (!form.hasAttribute("data-carries-note")) return;
    submitting = true;
    var carried = form.querySelector("input[name=body]");
    if (!typed()) {
      if (carried) carried.remove();
      return;
    }
    if (!carried) {
      carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = "body";
      form.appendChild(carried);
    }
    carried.value = note.value;
  });

  // The page came back from the browser's cache (Back): the next submit is new.
  window.addEventListener("pageshow", function () {
    submitting = false;
  });

  window.addEventListener("beforeunload", function (event) {
    if (submitting || !typed()) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
