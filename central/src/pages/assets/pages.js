// The pages' only script (no framework, no build step): the live clock, the watermark repeated
// until it covers the whole verdict, the camera scanner where the browser has a BarcodeDetector,
// keeping the scan field ready for a USB scanner in keyboard mode, and dropping a verdict from
// the screen after a while. Every page works without it except
// for the clock's ticking and the camera.
(function () {
  'use strict';

  // The live clock: Shanghai time (UTC+8, no daylight saving), counted from the service's clock
  // at page load, so that a device with a wrong clock still shows the right time.
  var serverMs = Number(document.body.getAttribute('data-now-ms'));
  var offset = serverMs > 0 ? serverMs - Date.now() : 0;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var d = new Date(Date.now() + offset + 8 * 3600 * 1000);
    var date = d.getUTCFullYear() + '年' + (d.getUTCMonth() + 1) + '月' + d.getUTCDate() + '日';
    var iso = d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
    var time = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
    var clocks = document.querySelectorAll('[data-clock]');
    for (var i = 0; i < clocks.length; i++) {
      var kind = clocks[i].getAttribute('data-clock');
      var text = kind === 'date' ? date : (kind === 'time' ? time : iso + ' ' + time);
      if (clocks[i].textContent !== text) { clocks[i].textContent = text; }
    }
  }
  if (document.querySelector('[data-clock]')) {
    tick();
    setInterval(tick, 250);
  }

  // The watermark: the service repeats the verifier's line a fixed number of times; here it is
  // repeated until the rotated grid covers the whole verdict, whatever the screen's size. The
  // grid is a square wider than the verdict's diagonal by a line's width on each side (rows end
  // raggedly), centred on the verdict, so that every point of the verdict lies inside it at any
  // angle; then rows are added until the square is full.
  function fillWatermark() {
    var marks = document.querySelectorAll('.watermark');
    for (var i = 0; i < marks.length; i++) {
      var mark = marks[i];
      var grid = mark.querySelector('.watermark-grid');
      var first = grid ? grid.querySelector('span') : null;
      if (!first) { continue; }
      var width = mark.clientWidth;
      var height = mark.clientHeight;
      var side = Math.ceil(Math.sqrt(width * width + height * height) + 2 * (first.offsetWidth + 100));
      grid.style.width = side + 'px';
      grid.style.height = side + 'px';
      grid.style.left = Math.floor((width - side) / 2) + 'px';
      grid.style.top = Math.floor((height - side) / 2) + 'px';
      for (var round = 0; round < 8; round++) {
        var last = grid.lastElementChild;
        if (last.offsetTop + last.offsetHeight >= side) { break; }
        var count = grid.children.length;
        var fragment = document.createDocumentFragment();
        for (var k = 0; k < count; k++) { fragment.appendChild(first.cloneNode(true)); }
        grid.appendChild(fragment);
      }
    }
  }
  if (document.querySelector('.watermark')) {
    fillWatermark();
    window.addEventListener('resize', fillWatermark);
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fillWatermark); }
  }

  // The scan field keeps the focus, so that a USB scanner (which types and presses Enter) works
  // whatever the verifier last touched.
  var form = document.getElementById('scan-form');
  var input = document.getElementById('payload');
  function focusInput() { if (input) { input.focus({ preventScroll: true }); } }
  if (form && input) {
    focusInput();
    document.addEventListener('click', function (event) {
      var target = event.target;
      if (target && target.closest && target.closest('button, a, input, video')) { return; }
      focusInput();
    });
  }

  // A verdict names a person: it leaves the screen after a while.
  var verdict = document.querySelector('[data-clear-after]');
  if (verdict) {
    var seconds = Number(verdict.getAttribute('data-clear-after'));
    if (seconds > 0) {
      setTimeout(function () { location.replace('/verify'); }, seconds * 1000);
    }
  }

  // The camera, where the browser can detect QR codes itself.
  var cameraButton = document.getElementById('camera');
  var view = document.getElementById('camera-view');
  var video = document.getElementById('camera-video');
  var status = document.getElementById('camera-status');
  var stopButton = document.getElementById('camera-stop');
  var stream = null;
  var scanning = false;
  function stopCamera() {
    scanning = false;
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    if (view) { view.hidden = true; }
    focusInput();
  }
  function scanFrame(detector) {
    if (!scanning) { return; }
    detector.detect(video).then(function (codes) {
      if (!scanning) { return; }
      if (codes.length > 0 && codes[0].rawValue) {
        input.value = codes[0].rawValue;
        stopCamera();
        form.submit();
        return;
      }
      setTimeout(function () { scanFrame(detector); }, 150);
    }, function () {
      setTimeout(function () { scanFrame(detector); }, 300);
    });
  }
  function startCamera(detector) {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        view.hidden = false;
        scanning = true;
        return video.play().then(function () { scanFrame(detector); });
      })
      .catch(function () {
        stopCamera();
        if (input) { input.placeholder = '无法打开摄像头：请用扫码枪扫码，或输入二维码内容'; }
      });
  }
  if (cameraButton && view && video && status && stopButton && form && input &&
      'BarcodeDetector' in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf('qr_code') < 0) { return; }
      var detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      cameraButton.hidden = false;
      cameraButton.addEventListener('click', function () { startCamera(detector); });
      stopButton.addEventListener('click', stopCamera);
    }).catch(function () { /* no camera scanning: the scanner and the keyboard still work */ });
  }
}());
