// Layout check of a `prime report` page (tests/report/report_test.sh): appended
// to a copy of the report as a <script>, run by headless Chromium
// (--dump-dom), it measures the rendered boxes and writes its findings into
// <pre id="layout-check">: "LAYOUT OK n" (n boxes checked) or one
// "LAYOUT PROBLEM <kind>: <what>" line per problem. Kinds:
//   overflow  the page or a box reaches past the viewport's width
//   hidden    an element that must show has no size
//   overlap   two boxes that must not meet do (siblings of one layout)
//   clipped   a box's text is wider or taller than the box
//   plot      a scatter point outside the plot area, or a bar whose length
//             is not the figure printed next to it
(function () {
  var problems = [], boxes = 0, EPS = 1;
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    var c = el.getAttribute('class');
    if (c) s += '.' + c.trim().split(/\s+/).join('.');
    var t = (el.textContent || '').trim().replace(/\s+/g, ' ');
    return s + (t ? ' "' + t.slice(0, 40) + '"' : '');
  }
  function bad(kind, what) { problems.push('LAYOUT PROBLEM ' + kind + ': ' + what); }
  function all(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); }
  function meets(a, b) {
    var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > EPS && h > EPS;
  }
  var vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + EPS)
    bad('overflow', 'the page is ' + document.documentElement.scrollWidth +
        ' px wide in a viewport of ' + vw + ' px');
  // everything that must show: visible and inside the viewport's width
  var must = 'h1, h2, h3, #ranking, tr.rank, .spark, .classbar, #correlation, #scatter, ' +
             'circle.pt, section.class, .mode, .desc, .bars, table.stats, .thumbs, figure.img, ' +
             'figcaption, .same';
  all(must).forEach(function (el) {
    var r = el.getBoundingClientRect();
    boxes++;
    if (r.width < EPS || r.height < EPS) bad('hidden', name(el) + ' has no size');
    else if (r.left < -EPS || r.right > vw + EPS)
      bad('overflow', name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) +
          ' px, the viewport 0..' + vw);
  });
  // siblings of one layout must not meet
  function apart(els, what) {
    var rs = els.map(function (e) { return e.getBoundingClientRect(); });
    for (var i = 0; i < els.length; i++)
      for (var j = i + 1; j < els.length; j++)
        if (rs[i].width > 0 && rs[j].width > 0 && meets(rs[i], rs[j]))
          bad('overlap', what + ': ' + name(els[i]) + ' and ' + name(els[j]));
  }
  function kids(el) {
    return Array.prototype.slice.call(el.children).filter(function (k) {
      return k.tagName !== 'SCRIPT' && k.tagName !== 'STYLE' && k.id !== 'layout-check';
    });
  }
  apart(kids(document.body), 'page blocks');
  all('#overview, section.class, .mode, .bars, #class-bars').forEach(function (el) {
    apart(kids(el), 'inside ' + name(el).split(' ')[0]);
  });
  apart(all('tr.rank'), 'ranking rows');
  all('.thumbs').forEach(function (el) { apart(kids(el), 'thumbnails'); });
  all('tr.rank').forEach(function (tr) { apart(kids(tr), 'ranking cells'); });
  // text fits its box
  all('h1, h2, h3, td, th, .desc, figcaption, .barlabel, #correlation, .parents, .same, p')
    .forEach(function (el) {
      if (el.clientWidth === 0) return;
      if (el.scrollWidth > el.clientWidth + EPS || el.scrollHeight > el.clientHeight + EPS)
        bad('clipped', name(el) + ': text ' + el.scrollWidth + 'x' + el.scrollHeight +
            ' in a box of ' + el.clientWidth + 'x' + el.clientHeight);
      var r = el.getBoundingClientRect(), p = el.parentElement.getBoundingClientRect();
      if (r.right > p.right + EPS && getComputedStyle(el).display !== 'table-cell')
        bad('clipped', name(el) + ' reaches past its container');
    });
  // the plot: points inside the plot area; bars as long as their figures
  var area = document.querySelector('#scatter rect');
  if (area) {
    var a = area.getBoundingClientRect();
    all('circle.pt').forEach(function (c) {
      var r = c.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
      if (x < a.left - EPS || x > a.right + EPS || y < a.top - EPS || y > a.bottom + EPS)
        bad('plot', name(c) + ' at ' + Math.round(x) + ',' + Math.round(y) + ' outside the plot');
    });
  }
  all('tr.rank').forEach(function (tr) {
    var spark = tr.querySelector('.spark'), fill = spark && spark.querySelector('span');
    var m = /([-0-9.]+)%\s*$/.exec(tr.lastElementChild.textContent);
    if (!fill || !m) { bad('plot', name(tr) + ' has no bar or no drop figure'); return; }
    var share = fill.getBoundingClientRect().width / spark.getBoundingClientRect().width;
    var want = Math.max(0, Math.min(1, parseFloat(m[1]) / 100));
    if (Math.abs(share - want) > 0.02)
      bad('plot', name(tr) + ': bar at ' + (100 * share).toFixed(1) + '%, figure ' + m[1] + '%');
  });
  var out = document.createElement('pre');
  out.id = 'layout-check';
  out.textContent = problems.length ? problems.join('\n') : 'LAYOUT OK ' + boxes;
  document.body.appendChild(out);
})();
