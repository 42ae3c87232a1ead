(function () {
  "use strict";

  // The receiver's API key lives in this tab's sessionStorage and travels
  // only in the Authorization header of requests to this origin. Nothing
  // read from the API is ever parsed as HTML: cells are set with textContent.
  var KEY = "pixauto.apiKey";
  var PAGE = 50;
  var body = document.body;
  var today = body.getAttribute("data-today");
  var $ = function (id) { return document.getElementById(id); };
  // query is the filter of the charges on screen, as last applied: the
  // exports use it, not fields edited since.
  var state = { key: null, receiver: null, view: "charges", rows: [], consents: [], cursor: null, seq: 0, query: null };

  function setState(s) { body.setAttribute("data-state", s); }
  function bump(attr) { body.setAttribute(attr, String(Number(body.getAttribute(attr) || "0") + 1)); }

  // Dates and money as Brazilians read them. Amounts stay decimal strings
  // (never floats); sums use BigInt cents.
  function addDays(iso, n) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function brDate(iso) {
    if (!iso) { return ""; }
    var p = iso.split("-");
    return p[2] + "/" + p[1] + "/" + p[0];
  }
  function brl(amount) {
    var parts = String(amount).split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return "R$ " + whole + "," + ((parts[1] || "") + "00").slice(0, 2);
  }
  function cents(amount) { return BigInt(String(amount).replace(".", "")); }
  function fromCents(c) {
    var s = c.toString().padStart(3, "0");
    return s.slice(0, -2) + "." + s.slice(-2);
  }
  function maskDocument(doc) {
    var layout = doc.length === 11 ? "###.###.###-##" : doc.length === 14 ? "##.###.###/####-##" : null;
    if (!layout) { return doc.length <= 4 ? "*".repeat(doc.length) : "*".repeat(doc.length - 4) + doc.slice(-4); }
    var out = "", i = 0;
    for (var j = 0; j < layout.length; j++) {
      if (layout[j] !== "#") { out += layout[j]; continue; }
      out += i >= doc.length - 4 ? doc[i] : "*";
      i++;
    }
    return out;
  }
  function cnpj(c) {
    return c.length === 14 ? c.slice(0, 2) + "." + c.slice(2, 5) + "." + c.slice(5, 8) + "/" + c.slice(8, 12) + "-" + c.slice(12) : c;
  }
  var intervals = { WEEKLY: "Weekly", MONTHLY: "Monthly", QUARTERLY: "Quarterly", HALF_YEARLY: "Half-yearly", YEARLY: "Yearly" };

  // request calls the API with the key; a 401 signs out, another error
  // becomes an Error with the problem's detail.
  function request(path, key) {
    return fetch(path, {
      headers: { Authorization: "Bearer " + (key || state.key) },
      credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer"
    }).then(function (r) {
      if (r.ok) { return r; }
      return r.text().then(function (text) {
        var p = {};
        try { p = JSON.parse(text); } catch (e) { p = {}; }
        var msg = p.detail || p.title || ("HTTP " + r.status);
        if (p.errors && p.errors.length) {
          msg += " " + p.errors.map(function (f) { return f.field + " " + f.message; }).join("; ");
        }
        var err = new Error(msg);
        err.status = r.status;
        throw err;
      });
    });
  }

  function failed(err) {
    if (err.status === 401) {
      signOut("Your session has ended: sign in again.");
      return;
    }
    $("error").textContent = err.message || "The request failed.";
    setState("error");
  }

  // Sign in and out.
  function showLogin(message) {
    $("app").hidden = true;
    $("who").hidden = true;
    $("signout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("login-error").classList.toggle("info", message === "Signed out.");
    $("key").focus();
    setState("signed-out");
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    state.key = null;
    state.receiver = null;
    state.rows = [];
    state.consents = [];
    state.seq++;
    $("charges").tBodies[0].replaceChildren();
    $("consents").tBodies[0].replaceChildren();
    $("consent").replaceChildren(new Option("All contracts", ""));
    $("summary").textContent = "";
    showLogin(message);
  }

  function start(key, receiver) {
    state.key = key;
    state.receiver = receiver;
    $("login").hidden = true;
    $("app").hidden = false;
    $("who").textContent = receiver.name + " · CNPJ " + cnpj(receiver.cnpj);
    $("who").hidden = false;
    $("signout").hidden = false;
    $("receiver-fixed").textContent = receiver.name;
    loadConsentOptions();
    selectView("charges");
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var key = $("key").value.trim();
    $("key").value = "";
    if (!/^pxa_[a-z2-7]{52}$/.test(key)) {
      $("login-error").textContent = "That is not an API key: pxa_ and 52 characters.";
      return;
    }
    $("login-error").textContent = "";
    request("v1/receiver", key).then(function (r) { return r.json(); }).then(function (receiver) {
      sessionStorage.setItem(KEY, key);
      start(key, receiver);
    }).catch(function (err) {
      $("login-error").textContent = err.status === 401 ? "This API key is not valid." : (err.message || "Sign-in failed.");
    });
  });
  $("signout").addEventListener("click", function () { signOut("Signed out."); });

  // Views: a tab presets the filters.
  var presets = {
    charges: function () { return { status: "", from: "", to: "" }; },
    failed: function () { return { status: "FAILED,RETRYING", from: addDays(today, -30), to: today }; },
    settled: function () { return { status: "SETTLED", from: addDays(today, -30), to: today }; }
  };

  function selectView(view) {
    state.view = view;
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-view") === view));
    });
    body.classList.toggle("view-consents", view === "consents");
    resetFilters();
    reload();
  }

  function resetFilters() {
    if (state.view === "consents") {
      $("consent-status").value = "";
      return;
    }
    var p = presets[state.view]();
    $("status").value = p.status;
    $("due-from").value = p.from;
    $("due-to").value = p.to;
    $("consent").value = "";
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
    b.addEventListener("click", function () { selectView(b.getAttribute("data-view")); });
  });
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); reload(); });
  $("reset").addEventListener("click", function () { resetFilters(); reload(); });
  $("more").addEventListener("click", function () { loadPage(state.seq); });
  $("export-csv").addEventListener("click", function () { exportAs("csv"); });
  $("export-xlsx").addEventListener("click", function () { exportAs("xlsx"); });

  function chargeQuery() {
    var q = new URLSearchParams();
    var st = $("status").value;
    if (st) { st.split(",").forEach(function (s) { q.append("status", s); }); }
    if ($("consent").value) { q.set("consent_id", $("consent").value); }
    if ($("due-from").value) { q.set("due_from", $("due-from").value); }
    if ($("due-to").value) { q.set("due_to", $("due-to").value); }
    return q;
  }

  function reload() {
    state.seq++;
    state.query = chargeQuery();
    state.rows = [];
    state.consents = [];
    state.cursor = null;
    $("error").textContent = "";
    loadPage(state.seq);
  }

  function loadPage(seq) {
    var consents = state.view === "consents";
    var q = new URLSearchParams(consents ? "" : state.query);
    q.set("limit", String(consents ? 100 : PAGE));
    if (consents && $("consent-status").value) { q.set("status", $("consent-status").value); }
    if (state.cursor) { q.set("cursor", state.cursor); }
    setState("loading");
    $("more").disabled = true;
    request((consents ? "v1/consents?" : "v1/charges/report?") + q).then(function (r) { return r.json(); }).then(function (page) {
      if (seq !== state.seq) { return; }
      state.cursor = page.next_cursor || null;
      if (consents) {
        state.consents = state.consents.concat(page.data);
        renderConsents();
      } else {
        state.rows = state.rows.concat(page.data);
        renderCharges();
      }
      $("more").hidden = !state.cursor;
      $("more").disabled = false;
      setState("ready");
      bump("data-loads");
    }).catch(function (err) {
      if (seq === state.seq) { failed(err); }
    });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }
  function badge(tr, status) {
    var td = document.createElement("td"), span = document.createElement("span");
    span.className = "badge " + status;
    span.textContent = status;
    td.appendChild(span);
    tr.appendChild(td);
  }
  function emptyRow(tbody, cols, text) {
    var tr = document.createElement("tr"), td = document.createElement("td");
    tr.className = "empty";
    td.colSpan = cols;
    td.textContent = text;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }

  function renderCharges() {
    var rows = state.rows.slice().sort(function (a, b) {
      return a.due_date < b.due_date ? 1 : a.due_date > b.due_date ? -1 : (a.charge_id < b.charge_id ? -1 : 1);
    });
    var tbody = $("charges").tBodies[0];
    tbody.replaceChildren();
    var total = BigInt(0);
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-charge", r.charge_id);
      tr.title = "Charge " + r.charge_id + (r.external_id ? " · invoice " + r.external_id : "");
      var reason = r.status_reason || {};
      cell(tr, reason.code || "", "code");
      cell(tr, r.contract_id, "nowrap");
      cell(tr, brDate(r.due_date), "nowrap");
      cell(tr, r.operation + " · " + r.attempts + (r.attempts === 1 ? " attempt" : " attempts"), "nowrap");
      cell(tr, reason.text || "");
      cell(tr, r.debtor.name || "");
      cell(tr, r.debtor.document, "nowrap");
      cell(tr, brl(r.amount), "num");
      badge(tr, r.status);
      cell(tr, r.detail);
      tbody.appendChild(tr);
      total += cents(r.amount);
    });
    if (!rows.length) { emptyRow(tbody, 10, "No charges match these filters."); }
    $("summary").textContent = rows.length + (rows.length === 1 ? " charge" : " charges") + " · " + brl(fromCents(total)) +
      (state.cursor ? " (more to load)" : "");
  }

  function renderConsents() {
    var tbody = $("consents").tBodies[0];
    tbody.replaceChildren();
    state.consents.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-consent", c.id);
      var debtor = c.debtor || {};
      cell(tr, c.contract_id, "nowrap");
      cell(tr, debtor.name || "");
      cell(tr, debtor.document ? maskDocument(debtor.document) : "", "nowrap");
      cell(tr, intervals[c.interval] || c.interval);
      badge(tr, c.status);
      cell(tr, c.status_reason ? c.status_reason.text : "");
      cell(tr, brDate(c.reference_start_date), "nowrap");
      cell(tr, brDate(c.expires_on), "nowrap");
      cell(tr, c.id, "code");
      var td = document.createElement("td"), b = document.createElement("button");
      b.type = "button";
      b.textContent = "Charges";
      b.addEventListener("click", function () { showChargesOf(c); });
      td.appendChild(b);
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    if (!state.consents.length) { emptyRow(tbody, 10, "No consents match this filter."); }
    $("summary").textContent = state.consents.length + (state.consents.length === 1 ? " consent" : " consents") +
      (state.cursor ? " (more to load)" : "");
  }

  function consentLabel(c) {
    var debtor = c.debtor || {};
    return c.contract_id + " · " + (debtor.name || (debtor.document ? maskDocument(debtor.document) : c.id));
  }

  function showChargesOf(c) {
    var sel = $("consent");
    if (!Array.prototype.some.call(sel.options, function (o) { return o.value === c.id; })) {
      sel.appendChild(new Option(consentLabel(c), c.id));
    }
    state.view = "charges";
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-view") === "charges"));
    });
    body.classList.remove("view-consents");
    $("status").value = "";
    $("due-from").value = "";
    $("due-to").value = "";
    sel.value = c.id;
    reload();
  }

  // The contract filter lists the receiver's first 500 consents.
  function loadConsentOptions() {
    var sel = $("consent"), seq = state.seq;
    function page(cursor, n) {
      var q = new URLSearchParams({ limit: "100" });
      if (cursor) { q.set("cursor", cursor); }
      return request("v1/consents?" + q).then(function (r) { return r.json(); }).then(function (p) {
        if (!state.key) { return; }
        p.data.forEach(function (c) {
          if (!Array.prototype.some.call(sel.options, function (o) { return o.value === c.id; })) {
            sel.appendChild(new Option(consentLabel(c), c.id));
          }
        });
        if (p.next_cursor && n < 4) { return page(p.next_cursor, n + 1); }
      });
    }
    page(null, 0).catch(function (err) { if (seq === state.seq) { failed(err); } });
  }

  // Exports: the file is fetched with the key in the header (never in the
  // URL) and saved from a blob.
  function exportAs(format) {
    var q = new URLSearchParams(state.query || chargeQuery());
    q.set("format", format);
    $("error").textContent = "";
    $("summary").setAttribute("data-export", "running");
    request("v1/charges/export?" + q).then(function (r) {
      var cd = r.headers.get("Content-Disposition") || "";
      var m = /filename="([^"]+)"/.exec(cd);
      var name = m ? m[1] : "charges." + format;
      return r.blob().then(function (blob) {
        var url = URL.createObjectURL(blob), a = document.createElement("a");
        a.href = url;
        a.download = name;
        a.hidden = true;
        body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        $("summary").setAttribute("data-export", name);
        bump("data-exports");
      });
    }).catch(function (err) {
      $("summary").setAttribute("data-export", "failed");
      failed(err);
    });
  }

  // A key kept by this tab signs in again after a reload.
  var kept = sessionStorage.getItem(KEY);
  if (!kept) {
    showLogin("");
    return;
  }
  request("v1/receiver", kept).then(function (r) { return r.json(); }).then(function (receiver) {
    start(kept, receiver);
  }).catch(function (err) {
    sessionStorage.removeItem(KEY);
    showLogin(err.status === 401 ? "Your session has ended: sign in again." : (err.message || ""));
  });
})();
