// SPDX-License-Identifier: GPL-2.0-only
// Appended (in a <script>) to a copy of a profile report or diff page by test_profile_report.sh
// and test_profile_diff.sh, after window.FOG_CHECK = { search, zoom, zoomOut, grew, shrank } is
// set; runs after the page's own script, drives the page's controls as a user would (types in
// the search box, clicks a frame, ticks the kernel fold) and writes what the DOM then shows as
// JSON into a pre element (id fogcheck), which the test reads from chromium --dump-dom.
(function () {
	var cfg = window.FOG_CHECK || {}, r = { errors: [] };
	try {
		var box = document.querySelector('div.flame'), svg = box && box.querySelector('svg');
		if (!svg) throw new Error('no div.flame with an svg');
		var gs = [].slice.call(svg.querySelectorAll('g.f'));
		var name = function (g) {
			var t = g.querySelector('title').textContent;
			return t.substring(0, t.lastIndexOf(' ('));
		};
		var shown = function (g) { return getComputedStyle(g).display !== 'none'; };
		var width = function (g) { return +g.querySelector('rect').getAttribute('width'); };
		var named = function (n) { return gs.filter(function (g) { return name(g) === n && shown(g); }); };
		// layout: what comes first, and how wide the graph is against the page
		var first = function (sel) { return document.querySelector(sel); };
		var before = function (a, b) {
			return !!(a && b && (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
		};
		r.flame_before_findings = before(box, first('#findings'));
		r.flame_before_tables = before(box, first('table'));
		r.flame_before_changes = before(box, first('#changes'));
		r.findings_before_summary = before(first('#findings'), first('#summary'));
		var h2 = first('h2');
		r.first_h2 = h2 ? h2.id || h2.textContent : '';
		r.svg_width = svg.getBoundingClientRect().width;
		r.page_width = document.documentElement.clientWidth;
		r.root_width = gs.length ? width(gs[0]) : 0;
		r.frames = gs.length;
		r.labelled = gs.filter(function (g) { return g.querySelector('text').textContent; }).length;
		// search: the box, the highlighted frames and their share
		var si = box.querySelector('.fsearch');
		if (cfg.search && si) {
			si.value = cfg.search;
			si.dispatchEvent(new Event('input'));
			r.matched_text = box.querySelector('.fmatched').textContent;
			r.matched = parseFloat(svg.getAttribute('data-matched'));
			r.hits = [].slice.call(svg.querySelectorAll('g.hit')).map(name)
				.filter(function (v, i, a) { return a.indexOf(v) === i; });
			r.hit_fill = [].slice.call(svg.querySelectorAll('g.hit rect')).map(function (x) {
				return x.getAttribute('fill');
			}).filter(function (v, i, a) { return a.indexOf(v) === i; });
			si.value = '';
			si.dispatchEvent(new Event('input'));
			r.hits_after_clear = svg.querySelectorAll('g.hit').length;
		}
		// zoom: a click on a frame widens it to the full width and hides what is beside it
		if (cfg.zoom && named(cfg.zoom).length) {
			var z = named(cfg.zoom)[0], W = r.root_width;
			z.dispatchEvent(new MouseEvent('click', { bubbles: true }));
			r.zoom_width = width(z) / W;
			r.zoom_out_shown = cfg.zoomOut ? named(cfg.zoomOut).length : -1;
			r.zoom_attr = svg.getAttribute('data-zoom');
			box.querySelector('.freset').dispatchEvent(new MouseEvent('click', { bubbles: true }));
			r.unzoom_out_shown = cfg.zoomOut ? named(cfg.zoomOut).length : -1;
		}
		// kernel fold: kernel frames hidden, one [kernel] frame per user frame over them
		var fk = box.querySelector('.fkernel');
		var kern = gs.filter(function (g) { return g.classList.contains('k') && !g.classList.contains('kf'); });
		var kf = gs.filter(function (g) { return g.classList.contains('kf'); });
		r.kernel_frames = kern.filter(shown).length;
		r.kf_shown_unfolded = kf.filter(shown).length;
		if (fk) {
			fk.checked = true;
			fk.dispatchEvent(new Event('change'));
			r.kernel_shown_folded = kern.filter(shown).length;
			r.kf_shown_folded = kf.filter(shown).length;
			r.kf_names = kf.filter(shown).map(name).filter(function (v, i, a) { return a.indexOf(v) === i; });
			// the folded frames cover what the kernel frames right above user frames covered
			var kw = 0, fw = 0, kx = {};
			kf.filter(shown).forEach(function (g) { fw += +g.dataset.w; kx[g.dataset.d] = 1; });
			kern.forEach(function (g) { if (kx[g.dataset.d] && kf.some(function (f) {
				return f.dataset.d === g.dataset.d && +g.dataset.x >= +f.dataset.x &&
					+g.dataset.x + +g.dataset.w <= +f.dataset.x + +f.dataset.w; })) kw += +g.dataset.w; });
			r.kf_weight = fw;
			r.kernel_weight_under_kf = kw;
			fk.checked = false;
			fk.dispatchEvent(new Event('change'));
			r.kernel_shown_unfolded = kern.filter(shown).length;
		}
		// differential colours
		var rgb = function (n) {
			var g = named(n)[0];
			if (!g) return null;
			var m = /rgb\((\d+),(\d+),(\d+)\)/.exec(g.querySelector('rect').getAttribute('fill'));
			return m ? [+m[1], +m[2], +m[3]] : null;
		};
		if (cfg.grew) r.grew_rgb = rgb(cfg.grew);
		if (cfg.shrank) r.shrank_rgb = rgb(cfg.shrank);
		// findings: evidence wraps inside its cell and the table inside the page
		var ev = [].slice.call(document.querySelectorAll('table.findings td.evidence'));
		r.evidence_cells = ev.length;
		r.evidence_overflow = ev.filter(function (td) { return td.scrollWidth > td.clientWidth + 1; }).length;
		r.evidence_wrapped = ev.filter(function (td) {
			var cs = getComputedStyle(td), lh = parseFloat(cs.lineHeight) || 1.3 * parseFloat(cs.fontSize);
			return td.getBoundingClientRect().height > 1.8 * lh;
		}).length;
		var ft = first('table.findings');
		r.findings_table_fits = ft ? ft.getBoundingClientRect().right <= r.page_width + 1 : null;
	} catch (e) {
		r.errors.push(String(e && e.stack || e));
	}
	var out = document.createElement('pre');
	out.id = 'fogcheck';
	out.textContent = JSON.stringify(r);
	document.body.appendChild(out);
})();
