/* graphnn graph viewer: pan, zoom, name scopes that open and close, node details.
 *
 * Part of graphnn (Apache-2.0), written for it; no third-party code. Graphviz drew every
 * view in Python (one SVG per set of closed name scopes); this script switches between
 * those views, moves the viewBox for pan and zoom, and shows the details that
 * graphnn/viz/html.py put in the page's JSON. Text from the data is set with textContent,
 * never parsed as HTML.
 */
(function () {
  "use strict";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function keyOf(closed) {
    return Array.from(closed).sort().join("\n");
  }

  function titleOf(group) {
    var title = group.querySelector("title");
    return title ? title.textContent : "";
  }

  /* Views and details travel gzip-compressed in base64; the browser's gzip unpacks them. */
  function unpack(base64) {
    var bytes = Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function Viewer(root) {
    var self = this;
    this.root = root;
    this.data = JSON.parse(root.querySelector("script.gnviz-data").textContent);
    this.initial = this.data.initial ? this.data.initial.split("\n") : [];
    this.closed = new Set(this.initial);
    this.selected = null;
    if (typeof DecompressionStream === "undefined") {
      return;  /* a browser older than 2023: the static picture stays */
    }
    this.ready = unpack(this.data.packed).then(function (contents) {
      self.views = contents.views;
      self.nodes = contents.nodes;
      self.build();
      self.showView(self.data.initial, null);
      root.setAttribute("data-ready", "true");
    });
  }

  Viewer.prototype.build = function () {
    var self = this;
    var root = this.root;
    root.classList.add("gnviz-live");
    root.style.height = root.getAttribute("data-height") || "560px";
    var bar = element("div", "gnviz-toolbar");
    bar.appendChild(element("span", "gnviz-title", this.data.title));
    [["+", "zoom in", function () { self.zoom(0.8, null); }],
     ["\u2212", "zoom out", function () { self.zoom(1.25, null); }],
     ["fit", "fit the graph in the window", function () { self.fit(); }],
     ["reset", "back to the first view", function () { self.reset(); }]
    ].forEach(function (spec) {
      var button = element("button", "gnviz-button", spec[0]);
      button.type = "button";
      button.title = spec[1];
      button.addEventListener("click", spec[2]);
      bar.appendChild(button);
    });
    var search = element("input", "gnviz-search");
    search.type = "search";
    search.placeholder = "find a node";
    search.title = "a name or part of one, then Enter";
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { self.find(search.value); }
    });
    bar.appendChild(search);
    bar.appendChild(element("span", "gnviz-hint",
      "click a box to open a scope, its frame to close it; click an op for details; " +
      "drag to pan, wheel to zoom"));
    this.message = element("div", "gnviz-message");
    this.message.hidden = true;
    this.details = element("div", "gnviz-details");
    this.details.hidden = true;
    this.canvas = root.querySelector(".gnviz-canvas");
    root.insertBefore(bar, this.canvas);
    root.appendChild(this.details);
    root.appendChild(this.message);
    this.canvas.addEventListener("click", function (event) { self.onClick(event); });
    this.canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      self.zoom(Math.exp(event.deltaY * 0.0015), event);
    }, {passive: false});
    this.canvas.addEventListener("pointerdown", function (event) { self.startDrag(event); });
  };

  Viewer.prototype.showView = function (key, focusScope) {
    var index = this.data.states[key];
    this.key = key;
    this.canvas.innerHTML = this.views[index];
    this.svg = this.canvas.querySelector("svg");
    this.svg.removeAttribute("width");
    this.svg.removeAttribute("height");
    var box = this.svg.viewBox.baseVal;
    this.full = {x: box.x, y: box.y, w: box.width, h: box.height};
    var self = this;
    this.svg.querySelectorAll("g.node").forEach(function (group) {
      var id = titleOf(group);
      group.setAttribute("data-id", id);
      if (id.endsWith("/")) {
        group.classList.add("gnviz-box");
        if (!self.reachable(id.slice(0, -1))) { group.classList.add("gnviz-fixed"); }
      }
    });
    this.svg.querySelectorAll("g.cluster").forEach(function (group) {
      var scope = titleOf(group).replace(/^cluster_/, "");
      group.setAttribute("data-scope", scope);
      if (!self.reachable(scope)) { group.classList.add("gnviz-fixed"); }
    });
    this.fit();
    if (focusScope !== null) { this.focus(focusScope); }
    if (this.selected) { this.highlight(); }
  };

  /* As toggled() in html.py: closing a scope resets the scopes inside it to the first view. */
  Viewer.prototype.toggled = function (scope) {
    var next = new Set(this.closed);
    if (next.has(scope)) {
      next.delete(scope);
      return next;
    }
    var inside = scope + "/";
    next.forEach(function (name) { if (name.startsWith(inside)) { next.delete(name); } });
    this.initial.forEach(function (name) { if (name.startsWith(inside)) { next.add(name); } });
    next.add(scope);
    return next;
  };

  Viewer.prototype.reachable = function (scope) {
    return Object.prototype.hasOwnProperty.call(this.data.states, keyOf(this.toggled(scope)));
  };

  Viewer.prototype.toggle = function (scope) {
    var next = this.toggled(scope);
    var key = keyOf(next);
    if (!Object.prototype.hasOwnProperty.call(this.data.states, key)) {
      this.say("This view was not stored in the page (it holds " + this.views.length +
               " views); draw it with expand=[...] or a larger max_views.");
      return;
    }
    this.closed = next;
    this.say("");
    this.showView(key, scope);
  };

  Viewer.prototype.reset = function () {
    this.closed = new Set(this.initial);
    this.select(null);
    this.showView(this.data.initial, null);
  };

  Viewer.prototype.say = function (text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  };

  Viewer.prototype.onClick = function (event) {
    if (this.dragged) { this.dragged = false; return; }
    var target = event.target.closest("g.node, g.cluster");
    if (!target) { this.select(null); return; }
    event.preventDefault();
    if (target.classList.contains("cluster")) {
      var scope = target.getAttribute("data-scope");
      this.select(scope + "/");
      this.toggle(scope);
      return;
    }
    var id = target.getAttribute("data-id");
    this.select(id);
    if (id.endsWith("/")) { this.toggle(id.slice(0, -1)); }
  };

  /* ----- details -------------------------------------------------------------------- */

  Viewer.prototype.select = function (id) {
    this.selected = id && this.nodes[id] ? id : null;
    this.highlight();
    this.renderDetails();
  };

  /* The drawn element that shows `name`: its own node, else the closed scope holding it. */
  Viewer.prototype.shownAs = function (name) {
    var parts = name.replace(/\/$/, "").split("/");
    for (var depth = 1; depth < parts.length; depth++) {
      var scope = parts.slice(0, depth).join("/");
      if (this.closed.has(scope)) { return this.nodeElement(scope + "/"); }
    }
    return this.nodeElement(name);
  };

  Viewer.prototype.nodeElement = function (id) {
    var found = null;
    this.svg.querySelectorAll("g.node").forEach(function (group) {
      if (group.getAttribute("data-id") === id) { found = group; }
    });
    return found;
  };

  Viewer.prototype.highlight = function () {
    this.svg.querySelectorAll(".gnviz-selected, .gnviz-forward").forEach(function (group) {
      group.classList.remove("gnviz-selected", "gnviz-forward");
    });
    if (!this.selected) { return; }
    var shown = this.shownAs(this.selected);
    if (shown) { shown.classList.add("gnviz-selected"); }
    var info = this.nodes[this.selected];
    if (info.gradient_of) {
      var forward = this.shownAs(info.gradient_of.name);
      if (forward) { forward.classList.add("gnviz-forward"); }
    }
  };

  Viewer.prototype.renderDetails = function () {
    var self = this;
    var panel = this.details;
    panel.textContent = "";
    if (!this.selected) { panel.hidden = true; return; }
    var info = this.nodes[this.selected];
    panel.hidden = false;
    var close = element("button", "gnviz-close", "\u00d7");
    close.type = "button";
    close.title = "close";
    close.addEventListener("click", function () { self.select(null); });
    panel.appendChild(close);
    panel.appendChild(element("div", "gnviz-name", info.name));
    var table = element("table", "gnviz-table");
    function row(label, value) {
      var line = element("tr");
      line.appendChild(element("th", "", label));
      var cell = element("td");
      if (typeof value === "string") { cell.textContent = value; } else { cell.appendChild(value); }
      line.appendChild(cell);
      table.appendChild(line);
    }
    function tensors(list) {
      var box = element("div");
      list.forEach(function (t) {
        box.appendChild(element("div", "gnviz-tensor", t.name + "  " + t.dtype + " " + t.shape));
      });
      return box;
    }
    if (info.kind === "scope" || info.kind === "layer") {
      if (info.layer) {
        row("layer", info.layer[1]);
        row("output", info.layer[2].replace(/^output /, ""));
        row("parameters", info.layer[3].replace(/ params$/, ""));
        if (info.weights.length) { row("weights", tensors(info.weights.map(function (w) {
          return {name: w, dtype: "", shape: ""};
        }))); }
      }
      row("name scope", info.name + " (" + info.ops + " ops)");
      row("op types", info.types.map(function (pair) {
        return pair[0] + (pair[1] > 1 ? " \u00d7" + pair[1] : "");
      }).join(", "));
      row("state", this.closed.has(info.name) ? "closed: click its box to open"
                                             : "open: click its frame to close");
    } else {
      row("op type", info.type);
      row("kind", info.kind);
      row("created at", info.where);
      if (info.value !== undefined) { row("value", info.value); }
      if (info.inputs.length) { row("inputs", tensors(info.inputs)); }
      if (info.outputs.length) { row("outputs", tensors(info.outputs)); }
      if (info.control_inputs.length) { row("after", info.control_inputs.join(", ")); }
      if (info.gradient_of) {
        var link = element("a", "gnviz-link", info.gradient_of.name + " (" +
                            info.gradient_of.type + ")");
        link.href = "#";
        link.addEventListener("click", function (event) {
          event.preventDefault();
          self.select(info.gradient_of.name);
        });
        row("gradient of", link);
      }
    }
    panel.appendChild(table);
  };

  /* ----- pan and zoom: the SVG's viewBox ------------------------------------------- */

  Viewer.prototype.setView = function (view) {
    this.view = view;
    this.svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  };

  Viewer.prototype.fit = function () {
    var f = this.full;
    var rect = this.canvas.getBoundingClientRect();
    /* Never blow a small graph up beyond 1.5 times its natural size. */
    var w = Math.max(f.w, rect.width / 1.5), h = Math.max(f.h, rect.height / 1.5);
    this.setView({x: f.x - (w - f.w) / 2, y: f.y - (h - f.h) / 2, w: w, h: h});
  };

  Viewer.prototype.toSvg = function (clientX, clientY) {
    var point = this.svg.createSVGPoint();
    point.x = clientX;
    point.y = clientY;
    return point.matrixTransform(this.svg.getScreenCTM().inverse());
  };

  Viewer.prototype.zoom = function (factor, event) {
    var rect = this.canvas.getBoundingClientRect();
    var center = event ? this.toSvg(event.clientX, event.clientY)
                       : this.toSvg(rect.left + rect.width / 2, rect.top + rect.height / 2);
    var v = this.view;
    this.setView({x: center.x - (center.x - v.x) * factor, y: center.y - (center.y - v.y) * factor,
                  w: v.w * factor, h: v.h * factor});
  };

  /* After opening or closing a scope, keep it in sight at a readable size. */
  Viewer.prototype.focus = function (scope) {
    var target = this.nodeElement(scope + "/");
    if (!target) {
      this.svg.querySelectorAll("g.cluster").forEach(function (group) {
        if (group.getAttribute("data-scope") === scope) { target = group; }
      });
    }
    /* Fitted at under 0.6 pixels per unit, labels are unreadable: zoom in to 1. */
    if (target && this.svg.getScreenCTM().a < 0.6) { this.centerOn(target); }
  };

  /* Centers the view on an element, at 1 pixel per unit unless it is zoomed in further. */
  Viewer.prototype.centerOn = function (target) {
    var rect = this.canvas.getBoundingClientRect();
    var box = target.getBoundingClientRect();
    var middle = this.toSvg(box.left + box.width / 2, box.top + box.height / 2);
    var unitsPerPixel = Math.min(1, 1 / this.svg.getScreenCTM().a);
    var w = rect.width * unitsPerPixel, h = rect.height * unitsPerPixel;
    this.setView({x: middle.x - w / 2, y: middle.y - h / 2, w: w, h: h});
  };

  /* The node whose name is the text, else the shortest op (then scope) name containing it;
     the scopes around it open when the page holds that view. */
  Viewer.prototype.find = function (query) {
    var text = query.trim().toLowerCase();
    if (!text) { return; }
    var ids = Object.keys(this.nodes);
    var containing = ids.filter(function (name) { return name.toLowerCase().indexOf(text) >= 0; });
    containing.sort(function (a, b) {
      return (a.endsWith("/") - b.endsWith("/")) || a.length - b.length;
    });
    var id = ids.find(function (name) {
      return name.toLowerCase() === text || name.toLowerCase() === text + "/";
    }) || containing[0];
    if (!id) {
      this.say("No node is named like \u201c" + query.trim() + "\u201d.");
      return;
    }
    this.say("");
    var next = new Set(this.closed);
    var parts = id.replace(/\/$/, "").split("/");
    for (var depth = 1; depth < parts.length; depth++) {
      next.delete(parts.slice(0, depth).join("/"));
    }
    var key = keyOf(next);
    if (key !== this.key && Object.prototype.hasOwnProperty.call(this.data.states, key)) {
      this.closed = next;
      this.showView(key, null);
    }
    this.select(id);
    var shown = this.shownAs(id);
    if (shown) { this.centerOn(shown); }
  };

  Viewer.prototype.startDrag = function (event) {
    if (event.button !== 0) { return; }
    var self = this;
    var start = {x: event.clientX, y: event.clientY, view: this.view};
    var scale = 1 / this.svg.getScreenCTM().a;  /* viewBox units per screen pixel */
    this.dragged = false;
    function move(moveEvent) {
      var dx = moveEvent.clientX - start.x, dy = moveEvent.clientY - start.y;
      if (!self.dragged && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      self.dragged = true;
      self.canvas.classList.add("gnviz-dragging");
      self.setView({x: start.view.x - dx * scale, y: start.view.y - dy * scale,
                    w: start.view.w, h: start.view.h});
    }
    function up() {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      self.canvas.classList.remove("gnviz-dragging");
    }
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };

  window.graphnnViz = {
    /* Mounts the viewer on the element with this id that has none yet (the same drawing
       shown twice in a notebook gives two elements with one id). */
    mount: function (id) {
      var roots = document.querySelectorAll("div.gnviz");
      for (var i = 0; i < roots.length; i++) {
        if (roots[i].id === id && !roots[i].gnvizViewer) {
          roots[i].gnvizViewer = new Viewer(roots[i]);
          return roots[i].gnvizViewer;
        }
      }
      return null;
    }
  };
})();
