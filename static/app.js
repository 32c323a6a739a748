// The little JavaScript pufa has, in one file so that the pages need no inline script
// (the Content-Security-Policy allows scripts from pufa itself only). Every page works
// without it; it only adds conveniences.
(function () {
  'use strict';

  // A page restored by the Back button is reloaded: its forms may act on a state that has
  // changed since (a regenerated calendar address, a saved grid).
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  // <select data-autosubmit>: choosing a value submits its form (year pickers).
  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target.matches && target.matches('select[data-autosubmit]') && target.form) {
      target.form.submit();
    }
  });

  // <form data-confirm="…">: asks before a destructive action.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);

  // <form data-keeps-ticks="id">: a search form that carries the people ticked in form #id
  // (and those it already carries) into the next page as `picked`, so that looking up one
  // name does not lose the ones ticked before (the invite page).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var from = form.getAttribute && form.getAttribute('data-keeps-ticks');
    var source = from && document.getElementById(from);
    if (!source) { return; }
    var ticked = source.querySelectorAll(
      'input[name="person_ids"]:checked:not(:disabled), input[type="hidden"][name="person_ids"]');
    Array.prototype.forEach.call(ticked, function (input) {
      var carry = document.createElement('input');
      carry.type = 'hidden';
      carry.name = 'picked';
      carry.value = input.value;
      form.appendChild(carry);
    });
  });

  // <button data-print>: prints the page (sign-in sheets).
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (target.matches && target.matches('[data-print]')) {
      window.print();
    }
  });

  // The dashboard's 复制 button copies the report paragraph.
  var copy = document.getElementById('copy-paragraph');
  if (copy) {
    copy.addEventListener('click', function () {
      var text = document.getElementById('paragraph').textContent;
      navigator.clipboard.writeText(text).then(function () { copy.textContent = '已复制'; });
    });
  }

  // The upload form shows its progress; without JavaScript it posts normally.
  var upload = document.getElementById('upload-form');
  if (upload) {
    upload.addEventListener('submit', function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var form = event.target, bar = document.getElementById('upload-progress'), status = document.getElementById('upload-status');
      var request = new XMLHttpRequest();
      request.open('POST', form.action);
      bar.hidden = false;
      form.querySelector('button[type=submit]').disabled = true;
      request.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); status.textContent = '正在上传 ' + bar.value + '%'; }
      };
      request.upload.onload = function () { status.textContent = '上传完成，正在读取和检查表格，请稍候……'; bar.removeAttribute('value'); };
      // The answer is the page the upload ended on (the preview, or the form with its
      // message): shown as it came, since loading it again would lose its one-time message.
      request.onload = function () {
        var url = request.responseURL || '/imports';
        document.open();
        document.write(request.responseText);
        document.close();
        history.replaceState(null, '', url);
      };
      request.onerror = function () { status.textContent = '上传失败，请检查网络后重试。'; form.querySelector('button[type=submit]').disabled = false; };
      request.send(new FormData(form));
    });
  }
})();
