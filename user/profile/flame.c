// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile/flame.h"

#define FRAME_H 16
#define PAD_TOP 50
#define PAD_BOTTOM 30
#define PAD_SIDE 10

struct node {
	const char *name;
	bool kernel;
	__u64 value;
	__u64 base;	/* a differential graph: the base profile's value */
	__u32 child;	/* first child + 1 */
	__u32 next;	/* next sibling + 1 */
	__u32 last;	/* last child (an index), valid when child is set */
};

struct tree {
	struct node *v;
	size_t n, cap;
	unsigned int depth;
	__u32 *hash;	/* node index + 1 by (parent, name), open addressing */
	size_t hcap;
	__u32 *parent;	/* each node's parent, for the hash */
};

static size_t node_hash(__u32 parent, const char *name, size_t hcap)
{
	__u64 h = 0xcbf29ce484222325ULL ^ ((__u64)parent * 0x9e3779b97f4a7c15ULL);

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 29)) & (hcap - 1);
}

static int tree_grow(struct tree *t)
{
	size_t cap = t->cap * 2, hcap = t->hcap * 2;
	struct node *v = realloc(t->v, cap * sizeof(*v));
	__u32 *par = v ? realloc(t->parent, cap * sizeof(*par)) : NULL;
	__u32 *h = par ? calloc(hcap, sizeof(*h)) : NULL;

	if (v)
		t->v = v;
	if (par)
		t->parent = par;
	if (!h)
		return -ENOMEM;
	t->cap = cap;
	for (size_t i = 1; i < t->n; i++) {
		size_t j = node_hash(t->parent[i], t->v[i].name, hcap);

		while (h[j])
			j = (j + 1) & (hcap - 1);
		h[j] = (__u32)i + 1;
	}
	free(t->hash);
	t->hash = h;
	t->hcap = hcap;
	return 0;
}

/* The child of parent named name, made when new (children kept in insertion order). */
static long add_node(struct tree *t, __u32 parent, const char *name, bool kernel)
{
	size_t j = node_hash(parent, name, t->hcap);
	struct node *pn;
	__u32 *link;

	for (; t->hash[j]; j = (j + 1) & (t->hcap - 1)) {
		__u32 i = t->hash[j] - 1;

		if (t->parent[i] == parent && !strcmp(t->v[i].name, name))
			return (long)i;
	}
	if (t->n == t->cap) {
		if (tree_grow(t))
			return -ENOMEM;
		for (j = node_hash(parent, name, t->hcap); t->hash[j]; j = (j + 1) & (t->hcap - 1))
			;
	}
	pn = &t->v[t->n];
	*pn = (struct node){ .name = name, .kernel = kernel };
	t->parent[t->n] = parent;
	t->hash[j] = (__u32)t->n + 1;
	/* append after the last child: the parent keeps its last child's index */
	if (!t->v[parent].child) {
		t->v[parent].child = (__u32)t->n + 1;
	} else {
		link = &t->v[t->v[parent].last].next;
		*link = (__u32)t->n + 1;
	}
	t->v[parent].last = (__u32)t->n;
	t->n++;
	return (long)t->n - 1;
}

/* Adds a profile's stacks to the tree by name, into value (or base, for a diff's base). */
static int add_stacks(struct tree *t, const struct fog_prof *p, bool base)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fog_prof_stack *s = &p->stacks[i];
		long cur = add_node(t, 0, s->comm[0] ? s->comm : FOG_PROF_UNKNOWN, false);
		unsigned int d = 1;

		for (__u32 k = s->n; cur >= 0; k--) {
			const struct fog_prof_frame *fr;

			if (base)
				t->v[cur].base += s->value;
			else
				t->v[cur].value += s->value;
			if (!k)
				break;
			fr = &p->frames[s->frames[k - 1]];
			cur = add_node(t, (__u32)cur, fr->func, fr->kernel);
			d++;
		}
		if (cur < 0)
			return (int)cur;
		if (d > t->depth)
			t->depth = d;
	}
	return 0;
}

static int build_tree(const struct fog_prof *p, const struct fog_prof *base, struct tree *t)
{
	int err;

	t->cap = 1024;
	t->hcap = 2048;	/* twice cap: at most half full */
	t->v = calloc(t->cap, sizeof(*t->v));
	t->parent = calloc(t->cap, sizeof(*t->parent));
	t->hash = calloc(t->hcap, sizeof(*t->hash));
	if (!t->v || !t->parent || !t->hash)
		return -ENOMEM;
	t->v[0] = (struct node){ .name = "all", .value = p->total, .base = base ? base->total : 0 };
	t->n = 1;
	err = add_stacks(t, p, false);
	if (!err && base)
		err = add_stacks(t, base, true);
	return err;
}

void fog_xml_escape(FILE *f, const char *raw)
{
	/*
	 * Valid UTF-8 whatever the string's origin (a comm from the collectors, a
	 * note): invalid bytes become U+FFFD, control characters '?'.
	 */
	size_t cap = strlen(raw) * 3 + 4;
	char *buf = malloc(cap);
	const char *s = raw;

	if (buf) {
		fog_prof_clean_name(buf, cap, raw, false);
		s = buf;
	}
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
		}
	}
	free(buf);
}

/* A stable warm colour per name; kernel frames orange, unknown ones grey. */
static void colour(const char *name, bool kernel, char *out, size_t len)
{
	unsigned int h = 2166136261u;

	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	if (name[0] == '[')
		snprintf(out, len, "rgb(180,180,180)");
	else if (kernel)
		snprintf(out, len, "rgb(240,%u,40)", 140 + h % 60);
	else
		snprintf(out, len, "rgb(%u,%u,%u)", 205 + h % 50, 60 + (h >> 8) % 130,
			 (h >> 16) % 55);
}

struct emit {
	FILE *f;
	struct tree *t;
	double scale;	/* pixels per unit of value */
	double min_width;
	unsigned int height;
	const char *unit;	/* escaped for XML */
	bool diff;	/* nodes carry a base value: coloured by the change */
	double new_total, base_total, max_delta;
};

/* The change of a node's share of its profile's total: > 0 grew, < 0 shrank. */
static double delta_of(const struct emit *e, __u64 value, __u64 base)
{
	double a = e->new_total > 0 ? (double)value / e->new_total : 0;
	double b = e->base_total > 0 ? (double)base / e->base_total : 0;

	return a - b;
}

/*
 * Differential colours as flamegraph.pl's and pprof's: red for what grew, blue for
 * what shrank, the deeper the larger the change against the largest one.
 */
static void diff_colour(const struct emit *e, double d, char *out, size_t len)
{
	double r = e->max_delta > 0 ? d / e->max_delta : 0;
	unsigned int c;

	if (r > 1)
		r = 1;
	if (r < -1)
		r = -1;
	c = (unsigned int)lround(235 - 200 * (r < 0 ? -r : r));
	if (d > 0)
		snprintf(out, len, "rgb(255,%u,%u)", c, c);
	else if (d < 0)
		snprintf(out, len, "rgb(%u,%u,255)", c, c);
	else
		snprintf(out, len, "rgb(235,235,235)");
}

static void emit_frame(struct emit *e, const char *name, bool kernel, const char *cls,
		       __u64 value, __u64 base, __u64 x, unsigned int depth)
{
	double w = (double)value * e->scale, px = PAD_SIDE + (double)x * e->scale;
	double y = e->height - PAD_BOTTOM - (depth + 1) * FRAME_H;
	double pct = e->t->v[0].value ? 100.0 * (double)value / (double)e->t->v[0].value : 0;
	char fill[32];

	if (e->diff)
		diff_colour(e, delta_of(e, value, base), fill, sizeof(fill));
	else
		colour(name, kernel, fill, sizeof(fill));
	fprintf(e->f, "<g class=\"%s\" data-x=\"%llu\" data-w=\"%llu\" data-d=\"%u\"", cls,
		(unsigned long long)x, (unsigned long long)value, depth);
	if (e->diff)
		fprintf(e->f, " data-delta=\"%+.6f\"", delta_of(e, value, base));
	fputs("><title>", e->f);
	fog_xml_escape(e->f, name);
	fprintf(e->f, " (%llu %s, %.2f%%", (unsigned long long)value, e->unit, pct);
	if (e->diff)
		fprintf(e->f, "; base %llu %s, %.2f%%; change %+.2f%%", (unsigned long long)base,
			e->unit, e->base_total > 0 ? 100.0 * (double)base / e->base_total : 0,
			100.0 * delta_of(e, value, base));
	fprintf(e->f, ")</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" "
		      "fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%.0f\"></text></g>\n",
		px, y, w, FRAME_H - 1, fill, px + 3, y + FRAME_H - 4);
}

/*
 * A node and its children, user children first so the kernel ones sit side by
 * side: folding them draws one "[kernel]" frame over their span.
 */
static void emit_node(struct emit *e, __u32 idx, __u64 x, unsigned int depth)
{
	const struct node *n = &e->t->v[idx];
	__u64 kx = 0, kval = 0, kbase = 0;
	bool kids = false;

	if ((double)n->value * e->scale < e->min_width)
		return;
	emit_frame(e, n->name, n->kernel, n->kernel ? "f k" : "f", n->value, n->base, x, depth);
	for (int pass = 0; pass < 2; pass++) {
		for (__u32 c = n->child; c; c = e->t->v[c - 1].next) {
			const struct node *ch = &e->t->v[c - 1];

			if (ch->kernel != (pass == 1))
				continue;
			if (pass && !kids) {
				kids = true;
				kx = x;
			}
			if (pass) {
				kval += ch->value;
				kbase += ch->base;
			}
			emit_node(e, c - 1, x, depth + 1);
			x += ch->value;
		}
	}
	/* the folded frame belongs to a user frame: under a kernel one, all is hidden already */
	if (kids && !n->kernel && (double)kval * e->scale >= e->min_width)
		emit_frame(e, "[kernel]", true, "f kf", kval, kbase, kx, depth + 1);
}

/*
 * The page's behaviour: labels fitted to widths, hover details, click to zoom,
 * search (regular expression) highlighting matches with their share of the total,
 * kernel frames folded into one, and in a page the full width of its box. In an
 * HTML page the controls are the page's toolbar next to the SVG (.fsearch,
 * .fkernel, .freset, .fmatched); alone, the SVG's own text controls.
 */
static const char flame_js[] =
	"(function(){\n"
	"var svg=document.currentScript?document.currentScript.ownerSVGElement||"
	"document.currentScript.closest('svg'):null;\n"
	"if(!svg){var all=document.getElementsByTagName('svg');svg=all[all.length-1];}\n"
	"var W=+svg.getAttribute('data-width'),P=+svg.getAttribute('data-pad'),"
	"T=+svg.getAttribute('data-total'),full=svg.hasAttribute('data-full');\n"
	"var box=svg.parentNode;function q(c){return box&&box.querySelector?"
	"box.querySelector(c):null;}\n"
	"var gs=[].slice.call(svg.querySelectorAll('g.f'));\n"
	"var det=svg.querySelector('.details'),mt=q('.fmatched')||svg.querySelector('.matched'),"
	"rs=q('.freset')||svg.querySelector('.reset');\n"
	"var zx=0,zw=T,zd=0,term='';\n"
	"function name(g){var t=g.querySelector('title').textContent;"
	"return t.substring(0,t.lastIndexOf(' ('));}\n"
	"function folded(){return svg.classList.contains('folded');}\n"
	"function shown(g){var k=g.classList;return folded()?!k.contains('k')||k.contains('kf'):"
	"!k.contains('kf');}\n"
	"function fit(g){var r=g.querySelector('rect'),t=g.querySelector('text'),"
	"w=+r.getAttribute('width'),n=name(g),c=Math.floor((w-6)/7);\n"
	"t.setAttribute('x',+r.getAttribute('x')+3);\n"
	"t.textContent=c<3?'':(n.length<=c?n:n.substring(0,c-2)+'..');}\n"
	"function place(){gs.forEach(function(g){var x=+g.dataset.x,w=+g.dataset.w,"
	"d=+g.dataset.d,r=g.querySelector('rect');\n"
	"if(x+w<=zx||x>=zx+zw||(d<zd&&!(x<=zx&&x+w>=zx+zw))){g.style.display='none';return;}\n"
	"var nx=d<zd?0:(x-zx)/zw*W,nw=d<zd?W:w/zw*W;\n"
	"if(nw<0.1){g.style.display='none';return;}g.style.display='';\n"
	"r.setAttribute('x',P+nx);r.setAttribute('width',nw);fit(g);});\n"
	"if(rs)rs.style.opacity=zw<T||zd>0?1:0.4;svg.setAttribute('data-zoom',zx+','+zw+','+zd);}\n"
	"function zoom(x,w,d){zx=x;zw=w>0?w:T;zd=d;place();}\n"
	"function search(t){term=t;var re=null;if(t){try{re=new RegExp(t);}catch(e){"
	"mt.textContent='bad expression: '+t;return;}}\n"
	"var hit=0,spans=[];gs.forEach(function(g){var r=g.querySelector('rect');\n"
	"if(!r.dataset.fill)r.dataset.fill=r.getAttribute('fill');\n"
	"if(re&&shown(g)&&re.test(name(g))){r.setAttribute('fill','rgb(230,0,230)');"
	"g.classList.add('hit');spans.push([+g.dataset.x,+g.dataset.w]);}"
	"else{r.setAttribute('fill',r.dataset.fill);g.classList.remove('hit');}});\n"
	"spans.sort(function(a,b){return a[0]-b[0];});var end=-1;spans.forEach(function(s){"
	"if(s[0]>=end){hit+=s[1];end=s[0]+s[1];}else if(s[0]+s[1]>end){hit+=s[0]+s[1]-end;"
	"end=s[0]+s[1];}});\n"
	"var pc=T?(100*hit/T).toFixed(2):'0.00';svg.setAttribute('data-matched',t?pc:'');\n"
	"mt.textContent=t?'Matched: '+pc+'% of the total ('+spans.length+' frames)':'';}\n"
	"function fold(on){svg.classList.toggle('folded',!!on);if(term)search(term);}\n"
	"function resize(){if(!full)return;var w=svg.getBoundingClientRect().width;"
	"if(w<=2*P+10)return;W=w-2*P;\n"
	"svg.setAttribute('viewBox','0 0 '+w+' '+svg.getAttribute('height'));"
	"svg.querySelector('.bg').setAttribute('width',w);"
	"if(svg.querySelector('.matched'))svg.querySelector('.matched').setAttribute('x',w-P);"
	"place();}\n"
	"gs.forEach(function(g){fit(g);\n"
	"g.addEventListener('mouseover',function(){det.textContent=g.querySelector('title')"
	".textContent;});\n"
	"g.addEventListener('mouseout',function(){det.textContent=' ';});\n"
	"g.addEventListener('click',function(){zoom(+g.dataset.x,+g.dataset.w,+g.dataset.d);});});\n"
	"if(rs)rs.addEventListener('click',function(){zoom(0,T,0);});\n"
	"var si=q('.fsearch'),ss=svg.querySelector('.search'),fk=q('.fkernel'),"
	"fs=svg.querySelector('.fold');\n"
	"if(si)si.addEventListener('input',function(){search(si.value);});\n"
	"if(ss)ss.addEventListener('click',function(){var t=window.prompt("
	"'Search (regular expression)',term);if(t!==null)search(t);});\n"
	"if(fk)fk.addEventListener('change',function(){fold(fk.checked);});\n"
	"if(fs)fs.addEventListener('click',function(){fold(!folded());"
	"fs.textContent=folded()?'Unfold kernel':'Fold kernel';});\n"
	"if(full){window.addEventListener('resize',resize);resize();}else place();\n"
	"})();\n";

static const char *unit_of(const struct fog_prof *p)
{
	return p->kind == FOG_PROF_CPU ? "samples" : p->kind == FOG_PROF_OFFCPU ? "ns" : "bytes";
}

int fog_flame_write_svg(const struct fog_prof *p, const struct fog_flame_opts *o, FILE *f)
{
	unsigned int width = o->width ? o->width : 1200;
	struct tree t = { 0 };
	char *unit = NULL;
	size_t ulen = 0;
	struct emit e;
	FILE *um;
	int err;

	err = build_tree(p, o->base, &t);
	if (err)
		goto out;
	/* the unit may come from a file read (a diff's pprof): escaped once, like names */
	um = open_memstream(&unit, &ulen);
	if (!um) {
		err = -ENOMEM;
		goto out;
	}
	fog_xml_escape(um, o->unit ? o->unit : unit_of(p));
	if (fclose(um)) {
		err = -ENOMEM;
		goto out;
	}
	e = (struct emit){
		.f = f,
		.t = &t,
		.scale = p->total ? (double)(width - 2 * PAD_SIDE) / (double)p->total : 0,
		.min_width = o->min_width > 0 ? o->min_width : 0.1,
		.height = PAD_TOP + PAD_BOTTOM + (t.depth + 1) * FRAME_H,
		.unit = unit,
		.diff = o->base != NULL,
		.new_total = (double)p->total,
		.base_total = o->base ? (double)o->base->total : 0,
	};
	for (size_t i = 1; e.diff && i < t.n; i++) {
		double d = delta_of(&e, t.v[i].value, t.v[i].base);

		if (d < 0)
			d = -d;
		if (d > e.max_delta)
			e.max_delta = d;
	}
	if (o->inline_svg)
		e.height -= PAD_TOP - 10;	/* the page's toolbar holds the title and controls */
	if (!o->inline_svg)
		fputs("<?xml version=\"1.0\" standalone=\"no\"?>\n", f);
	fprintf(f, "<svg version=\"1.1\" %s height=\"%u\" viewBox=\"0 0 %u %u\" "
		   "xmlns=\"http://www.w3.org/2000/svg\" class=\"flamegraph\" data-width=\"%u\" "
		   "data-pad=\"%d\" data-total=\"%llu\"%s>\n",
		o->inline_svg ? "width=\"100%\"" : "", e.height, width, e.height,
		width - 2 * PAD_SIDE, PAD_SIDE, (unsigned long long)p->total,
		o->inline_svg ? " data-full=\"1\"" : "");
	fputs("<style>.flamegraph text{font:12px monospace;fill:#000;pointer-events:none}"
	      ".flamegraph g.f{cursor:pointer}"
	      ".flamegraph g.f:hover rect{stroke:#000;stroke-width:0.5}"
	      ".flamegraph g.kf,.flamegraph.folded g.k{display:none}"
	      ".flamegraph.folded g.kf{display:inline}"
	      ".flamegraph .ctl{cursor:pointer;font:12px sans-serif;fill:#333;"
	      "pointer-events:auto}"
	      ".flamegraph .hdr{font:17px sans-serif;fill:#000}</style>\n", f);
	fprintf(f, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" "
		   "fill=\"#f8f8f0\"/>\n", width, e.height);
	if (!o->inline_svg) {
		fprintf(f, "<text class=\"hdr\" x=\"%u\" y=\"24\" text-anchor=\"middle\">",
			width / 2);
		fog_xml_escape(f, o->title ? o->title : "Flame Graph");
		fputs("</text>\n", f);
		fprintf(f, "<text class=\"ctl reset\" x=\"%d\" y=\"24\" style=\"opacity:0\">"
			   "Reset Zoom</text>\n", PAD_SIDE);
		fprintf(f, "<text class=\"ctl fold\" x=\"%u\" y=\"24\" text-anchor=\"end\">"
			   "Fold kernel</text>\n", width - PAD_SIDE - 70);
		fprintf(f, "<text class=\"ctl search\" x=\"%u\" y=\"24\" text-anchor=\"end\">"
			   "Search</text>\n", width - PAD_SIDE);
		fprintf(f, "<text class=\"ctl matched\" x=\"%u\" y=\"%u\" text-anchor=\"end\">"
			   "</text>\n", width - PAD_SIDE, e.height - 10);
	}
	fprintf(f, "<text class=\"ctl details\" x=\"%d\" y=\"%u\"> </text>\n", PAD_SIDE,
		e.height - 10);
	if (p->total)
		emit_node(&e, 0, 0, 0);
	else
		fprintf(f, "<text class=\"ctl\" x=\"%u\" y=\"%u\" text-anchor=\"middle\">no samples"
			   "</text>\n", width / 2, e.height / 2);
	fprintf(f, "<script type=\"text/javascript\"><![CDATA[\n%s]]></script>\n</svg>\n",
		flame_js);
	err = ferror(f) ? -EIO : 0;
out:
	free(unit);
	free(t.v);
	free(t.parent);
	free(t.hash);
	return err;
}

/* The toolbar an HTML page puts above an inline flame graph (see flame_js). */
void fog_flame_write_toolbar(FILE *f, const char *title)
{
	fputs("<div class=\"fbar\"><b>", f);
	fog_xml_escape(f, title);
	fputs("</b> <input type=\"search\" class=\"fsearch\" placeholder=\"search functions "
	      "(regular expression)\" size=\"32\"> <label><input type=\"checkbox\" "
	      "class=\"fkernel\"> fold kernel frames into [kernel]</label> <button type=\"button\" "
	      "class=\"freset\">reset zoom</button> <span class=\"fmatched\"></span>"
	      "<span class=\"note\"> click a frame to zoom</span></div>\n", f);
}

int fog_flame_write_svg_default(const struct fog_prof *p, FILE *f)
{
	struct fog_flame_opts o = { .title = "Allocation Flame Graph" };

	if (p->kind == FOG_PROF_CPU)
		o.title = "CPU Flame Graph";
	else if (p->kind == FOG_PROF_OFFCPU)
		o.title = "Off-CPU Flame Graph";

	return fog_flame_write_svg(p, &o, f);
}
