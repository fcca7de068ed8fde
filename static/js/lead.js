// The lead page: a note typed but not yet added is never dropped without a word.
// - Saving another action (status, owner, follow-up, convert) posts the note with
//   it, and the server adds both or neither (leads.views.LeadActionView).
// - Leaving the page any other way with a note in the box asks first.
// The convert page holds such a note until its button is pressed
// (form[data-holds-note]): leaving it another way asks first too.
// Without this script the forms work as they are; only this safety net is missing.
(function () {
  var note = document.getElementById("id_body");
  var held = document.querySelector("form[data-holds-note] input[name=body]");
  if (!note && !held) return;
  var submitting = false;

  function typed() {
    return (note ? note.value : held.value).trim() !== "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!note) {
      // The convert page: only its own buttons take the note along (not Log out).
      if (form === held.form) submitting = true;
      return;
    }
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
