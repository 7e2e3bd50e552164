//! `forensic export` (docs/export.md): the CASE/UCO export of a bundle collected from a real
//! podman container passes the real `case_validate` (PyPI case-utils) and describes exactly the
//! members, hashes and custody entries `ls`, `verify` and `custody log` show; the Timesketch JSON
//! Lines and CSV rows are the events of `forensic timeline --format jsonl` one for one, read back
//! by Python's own `datetime` and `csv`; a bundle that does not verify is refused with nothing
//! written unless `--force`; an existing output is never touched.

use crate::podman::{Container, Image};
use crate::util::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// docs/export.md: the CSV header row.
const CSV_HEADER: &str = "message,datetime,timestamp_desc,timestamp,time_ns,source,kind,evidence,uncertainty_s,detail";

/// `forensic export BUNDLE --format FORMAT -o OUT EXTRA… --json`, which must exit `want`; its
/// `--json` document.
fn export(bundle: &Path, format: &str, out: &Path, extra: &[&str], want: i32) -> Value {
    let mut args = vec!["export", s(bundle), "--format", format, "-o", s(out), "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(
        code(&o),
        want,
        "export {format} {extra:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    json(&o)
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `forensic timeline BUNDLE --format jsonl EXTRA…`, the events the exports must equal.
fn timeline_events(bundle: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["timeline", s(bundle), "--format", "jsonl"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(code(&o), 0, "timeline: {}", stderr(&o));
    jsonl(&stdout(&o))
}

/// Runs Python on `script` with `args`, which must succeed; its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "python3: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Python's `datetime.fromisoformat` of every row's `datetime` (an importer's reader, not ours),
/// as microseconds since the epoch.
fn python_micros(path: &Path) -> Vec<i64> {
    let script = "import json, sys\nfrom datetime import datetime, timezone\n\
for line in open(sys.argv[1]):\n    t = datetime.fromisoformat(json.loads(line)['datetime'])\n    \
assert t.utcoffset().total_seconds() == 0, t\n    \
d = t - datetime(1970, 1, 1, tzinfo=timezone.utc)\n    \
print((d.days * 86400 + d.seconds) * 1000000 + d.microseconds)\n";
    python(script, &[s(path)]).lines().map(|l| l.parse().unwrap()).collect()
}

/// The rows of a CSV file as Python's `csv` module reads them.
fn python_csv(path: &Path) -> Vec<Vec<String>> {
    let script =
        "import csv, json, sys\nprint(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))";
    serde_json::from_str(&python(script, &[s(path)])).unwrap()
}

/// Each Timesketch JSON Lines row is its timeline event (docs/export.md's table).
fn assert_rows_are_the_events(rows: &[Value], events: &[Value], micros: &[i64]) {
    assert_eq!(rows.len(), events.len(), "one row per event");
    assert_eq!(micros.len(), events.len());
    for ((row, e), us) in rows.iter().zip(events).zip(micros) {
        let ns = e["time_ns"].as_i64().unwrap();
        assert_eq!(row["message"], e["description"], "{row}");
        assert_eq!(row["time_ns"], e["time_ns"], "{row}");
        assert_eq!(row["timestamp"], json!(ns.div_euclid(1000)), "{row}");
        assert_eq!(
            *us,
            ns.div_euclid(1000),
            "Python reads the datetime to the microsecond: {row}"
        );
        let dt = row["datetime"].as_str().unwrap();
        assert!(
            dt.ends_with("+00:00") && dt.len() == "2024-05-07T18:54:19.341081180+00:00".len(),
            "{dt}"
        );
        let parsed = chrono::DateTime::parse_from_rfc3339(dt).unwrap();
        assert_eq!(parsed.timestamp_nanos_opt(), Some(ns), "{row}");
        for k in ["source", "kind", "evidence"] {
            assert_eq!(row[k], e[k], "{k}: {row}");
        }
        let desc = row["timestamp_desc"].as_str().unwrap();
        let want = match (e["source"].as_str().unwrap(), e["kind"].as_str().unwrap()) {
            ("file", "m...") => "Content Modification Time",
            ("file", "..c.") => "Metadata Modification Time",
            ("file", "m.c.") => "Content and Metadata Modification Time",
            ("process", _) => "Process Start Time",
            ("container", _) => "Container Creation Time",
            ("collection", "created") => "Bundle Creation Time",
            ("collection", "started") => "Collection Start Time",
            ("collection", "finished") => "Collection End Time",
            ("custody", _) => "Custody Entry Time",
            other => panic!("an event this bundle should not have: {other:?}"),
        };
        assert_eq!(desc, want, "{row}");
        match e.get("uncertainty_ns").and_then(Value::as_i64) {
            Some(u) => assert_eq!(row["uncertainty_s"].as_f64(), Some(u as f64 / 1e9), "{row}"),
            None => assert!(row.get("uncertainty_s").is_none(), "{row}"),
        }
        // Each detail field is an attribute of its own, `detail_`-prefixed if it is a column.
        for (k, v) in e["detail"].as_object().into_iter().flatten() {
            if v.is_null() {
                continue;
            }
            let reserved = CSV_HEADER.split(',').any(|c| c == k && c != "detail");
            let key = if reserved { format!("detail_{k}") } else { k.clone() };
            assert_eq!(&row[&key], v, "{key}: {row}");
        }
    }
}

/// Each CSV row (as Python reads it) is its timeline event.
fn assert_csv_is_the_events(rows: &[Vec<String>], events: &[Value]) {
    assert_eq!(rows[0].join(","), CSV_HEADER);
    assert_eq!(rows.len(), events.len() + 1, "a header row, then one per event");
    for (row, e) in rows[1..].iter().zip(events) {
        assert_eq!(row.len(), 10, "{row:?}");
        let ns = e["time_ns"].as_i64().unwrap();
        assert_eq!(row[0], e["description"].as_str().unwrap());
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(&row[1])
                .unwrap()
                .timestamp_nanos_opt(),
            Some(ns)
        );
        assert_eq!(row[3], ns.div_euclid(1000).to_string());
        assert_eq!(row[4], ns.to_string());
        assert_eq!(row[5], e["source"].as_str().unwrap());
        assert_eq!(row[6], e["kind"].as_str().unwrap());
        assert_eq!(row[7], e["evidence"].as_str().unwrap());
        match e.get("uncertainty_ns").and_then(Value::as_i64) {
            Some(u) => assert_eq!(row[8].parse::<f64>().unwrap(), u as f64 / 1e9),
            None => assert_eq!(row[8], ""),
        }
        match e.get("detail") {
            Some(d) => assert_eq!(&serde_json::from_str::<Value>(&row[9]).unwrap(), d),
            None => assert_eq!(row[9], ""),
        }
    }
}

/// The graph's nodes of one `@type`.
fn of_type<'a>(graph: &'a [Value], t: &str) -> Vec<&'a Value> {
    graph.iter().filter(|n| n["@type"] == t).collect()
}

/// `observable:File` nodes by `core:name`: (size, SHA-256) of their content facet.
fn files(graph: &[Value]) -> BTreeMap<String, (Option<u64>, Option<String>)> {
    of_type(graph, "observable:File")
        .iter()
        .map(|n| {
            let content = n["core:hasFacet"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["@type"] == "observable:ContentDataFacet");
            let size = content.and_then(|c| c["observable:sizeInBytes"].as_u64());
            let hash = content.map(|c| {
                assert_eq!(c["observable:hash"][0]["types:hashMethod"], "SHA256");
                c["observable:hash"][0]["types:hashValue"]["@value"]
                    .as_str()
                    .unwrap()
                    .to_string()
            });
            (n["core:name"].as_str().unwrap().to_string(), (size, hash))
        })
        .collect()
}

/// The `@id` of the bundle's node.
fn bundle_node<'a>(graph: &'a [Value], name: &str) -> &'a Value {
    graph
        .iter()
        .find(|n| n["@type"] == "observable:File" && n["core:name"] == name)
        .unwrap_or_else(|| panic!("no bundle node {name}"))
}

/// `case_validate FILE` (CASE 1.5.0 SHACL shapes): conforms.
fn assert_case_validates(path: &Path) {
    let o = Command::new("case_validate")
        .arg(path)
        .output()
        .expect("case_validate is installed (.ci/run: pip install case-utils)");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("Conforms: True"), "{out}");
}

#[test]
fn a_collected_container_exports_to_case_and_timesketch_as_ls_and_timeline_show_it() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("e{}", std::process::id());
    let image = Image::build_with(w, &tag, &[("etc/export-e2e", tag.as_bytes())]);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    c.sh(
        "echo planted > /tmp/dropped && mkdir -p /root/.ssh && echo 'ssh-ed25519 AAAA x' > /root/.ssh/authorized_keys",
    );
    let handed = c.collect_handed_over(w, &[]);
    let (bundle, key_pub, lab_pub) = (handed.bundle, handed.key_pub, handed.lab_pub);
    let trust = [key_pub.as_path(), lab_pub.as_path()];
    let trust_args = ["--trust", s(trust[0]), "--trust", s(trust[1])];

    // CASE/UCO: case_validate conforms; the JSON says what was written.
    let case = w.join("case17.jsonld");
    let v = export(&bundle, "case", &case, &trust_args, 0);
    let doc: Value = serde_json::from_slice(&std::fs::read(&case).unwrap()).unwrap();
    let graph = doc["@graph"].as_array().unwrap();
    assert_eq!(
        v,
        json!({"output": s(&case), "format": "case", "written": graph.len(), "unit": "nodes",
               "verified": true, "forced": false, "notes": []})
    );
    assert_case_validates(&case);

    // Node for node what ls, verify and custody log show.
    let ls = json(&run(&["ls", s(&bundle), "--json"]));
    let ver = json(&run(&["verify", s(&bundle), "--json"]));
    let log = json(&run(&[
        "custody",
        "log",
        s(&bundle),
        "--json",
        "--trust",
        s(trust[0]),
        "--trust",
        s(trust[1]),
    ]));
    let members = ls["members"].as_array().unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "sealed, transferred, received: {log:#}");
    let mut want: BTreeMap<String, (Option<u64>, Option<String>)> = members
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap().to_string();
            (
                name,
                (m["size"].as_u64(), Some(m["sha256"].as_str().unwrap().to_string())),
            )
        })
        .collect();
    want.insert(
        "manifest.cbor".into(),
        (None, Some(ver["manifest_sha256"].as_str().unwrap().to_string())),
    );
    want.insert(s(&bundle).to_string(), (None, None));
    assert_eq!(files(graph), want, "every member, manifest.cbor and the bundle");
    let bundle_id = ver["bundle_id"].as_str().unwrap();
    let b = bundle_node(graph, s(&bundle));
    assert_eq!(b["core:hasFacet"][0]["observable:fileName"], "case17.zip");
    let described = b["core:description"].as_str().unwrap();
    assert!(
        described.starts_with(&format!("forensic bundle {bundle_id} ")),
        "{described}"
    );
    assert!(described.contains("verified when exported"), "{described}");
    let relationships = of_type(graph, "core:Relationship");
    assert_eq!(relationships.len(), members.len() + 1, "each member and manifest.cbor");
    assert!(
        relationships
            .iter()
            .all(|r| r["core:kindOfRelationship"] == "Contained_Within" && r["core:target"]["@id"] == b["@id"])
    );
    // The collection and each custody entry are actions; each entry a provenance record.
    let actions = of_type(graph, "investigation:InvestigativeAction");
    let names: Vec<&str> = actions.iter().map(|a| a["core:name"].as_str().unwrap()).collect();
    assert_eq!(names, ["collection", "sealed", "transferred", "received"]);
    let records = of_type(graph, "investigation:ProvenanceRecord");
    assert_eq!(records.len(), 3);
    assert!(
        records.iter().all(|r| r["investigation:exhibitNumber"] == "E-7"),
        "{records:?}"
    );
    let entry_hashes: Vec<&str> = of_type(graph, "observable:ObservableObject")
        .iter()
        .filter(|n| n["core:name"].as_str().unwrap().starts_with("custody.cbor entry "))
        .map(|n| {
            assert_eq!(n["core:hasFacet"][1]["observable:signatureVerified"], true, "{n}");
            n["core:hasFacet"][0]["observable:hash"][0]["types:hashValue"]["@value"]
                .as_str()
                .unwrap()
        })
        .collect();
    let log_hashes: Vec<&str> = entries.iter().map(|e| e["entry_sha256"].as_str().unwrap()).collect();
    assert_eq!(entry_hashes, log_hashes);
    for (a, e) in actions[1..].iter().zip(entries) {
        assert_eq!(a["action:startTime"]["@value"], e["time"], "{a}");
        assert_eq!(a["action:startTime"], a["action:endTime"], "{a}");
    }
    // Signers: one identity per name and key, and the examiner.
    let mut identities: Vec<(&str, &str)> = of_type(graph, "identity:Identity")
        .iter()
        .map(|i| {
            (
                i["core:name"].as_str().unwrap(),
                i["core:description"].as_str().unwrap(),
            )
        })
        .collect();
    identities.sort();
    let fp = |e: &Value| {
        format!(
            "signs with the Ed25519 key whose SHA-256 fingerprint is {}",
            e["fingerprint"].as_str().unwrap()
        )
    };
    let (sealer, lab_fp) = (fp(&entries[0]), fp(&entries[2]));
    assert_eq!(fp(&entries[1]), sealer, "the collector transfers with the sealing key");
    assert_eq!(
        identities,
        [
            ("A. Responder", sealer.as_str()),
            ("A. Responder", "the examiner named in the manifest's case record"),
            ("collector", sealer.as_str()),
            ("lab", lab_fp.as_str()),
        ]
    );
    let collection = actions[0];
    let target = graph
        .iter()
        .find(|n| n["@id"] == collection["action:object"][0]["@id"])
        .unwrap();
    assert_eq!(target["core:name"], c.name.as_str());
    let tags: BTreeSet<&str> = target["core:tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(format!("container_name={}", c.name).as_str()), "{tags:?}");
    assert!(tags.contains("runtime=podman"), "{tags:?}");
    assert_eq!(collection["action:result"].as_array().unwrap().len(), members.len() + 2);
    let investigation = of_type(graph, "investigation:Investigation");
    assert_eq!(investigation.len(), 1);
    assert_eq!(investigation[0]["core:name"], "CASE-17");
    // 8 nodes + 2 a member + 3 a custody entry + the signers, none twice.
    assert_eq!(graph.len(), 8 + 2 * members.len() + 3 * entries.len() + 3);
    let ids: BTreeSet<&str> = graph.iter().map(|n| n["@id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), graph.len());
    // The same bundle always exports the same graph.
    let again = w.join("again.jsonld");
    export(&bundle, "case", &again, &trust_args, 0);
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&case).unwrap());

    // Timesketch JSON Lines: the timeline's events one for one, in order, by default and --all.
    for scope in [&[][..], &["--all"][..]] {
        let events = timeline_events(&bundle, scope);
        let ts = w.join(format!("ts{}.jsonl", scope.len()));
        let v = export(&bundle, "timesketch", &ts, scope, 0);
        assert_eq!(v["written"], events.len(), "{v}");
        assert_eq!(
            (&v["unit"], &v["format"], &v["verified"], &v["forced"]),
            (&json!("events"), &json!("timesketch"), &json!(true), &json!(false))
        );
        let text = std::fs::read_to_string(&ts).unwrap();
        let rows = jsonl(&text);
        assert_rows_are_the_events(&rows, &events, &python_micros(&ts));
        let sources: BTreeSet<&str> = rows.iter().map(|r| r["source"].as_str().unwrap()).collect();
        assert_eq!(
            sources,
            BTreeSet::from(["collection", "container", "custody", "file", "process"]),
            "{scope:?}"
        );
        // Keys in order of name (serde_json's map is ordered: compare the text).
        for (line, row) in text.lines().zip(&rows) {
            assert_eq!(line, serde_json::to_string(row).unwrap());
        }
        let csv = w.join(format!("ts{}.csv", scope.len()));
        let v = export(&bundle, "csv", &csv, scope, 0);
        assert_eq!(v["written"], events.len(), "{v}");
        assert!(
            std::fs::read_to_string(&csv)
                .unwrap()
                .starts_with(&format!("{CSV_HEADER}\n"))
        );
        assert_csv_is_the_events(&python_csv(&csv), &events);
        if scope.is_empty() {
            let planted: Vec<&Value> = rows.iter().filter(|r| r["path"] == "/tmp/dropped").collect();
            assert!(!planted.is_empty(), "the planted file is a changed file");
            assert!(
                rows.iter().all(|r| r["path"] != "/etc/export-e2e"),
                "an untouched image file only with --all"
            );
        } else {
            assert!(rows.iter().any(|r| r["path"] == "/etc/export-e2e"));
        }
    }
}

#[test]
fn a_bundle_that_does_not_verify_is_refused_or_marked_and_no_output_is_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (good, bad) = good_and_bad(root);
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    let listing = || -> BTreeSet<String> {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let failures = json(&run(&["verify", s(&bad), "--json"]))["failures"]
        .as_array()
        .unwrap()
        .len();
    assert!(failures > 0);

    // Refused: exit 1, nothing written, not even the temporary file.
    for format in ["case", "timesketch", "csv"] {
        let dest = out.join(format!("refused.{format}"));
        let o = run(&["export", s(&bad), "--format", format, "-o", s(&dest)]);
        assert_eq!(code(&o), 1, "{format}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("did not verify") && stderr(&o).contains("refusing to export"),
            "{}",
            stderr(&o)
        );
        assert!(listing().is_empty(), "{:?}", listing());
    }

    // Forced: exit 1 all the same, OUT written, and the CASE document says it did not verify.
    let forced = out.join("forced.jsonld");
    let v = export(&bad, "case", &forced, &["--force"], 1);
    let doc: Value = serde_json::from_slice(&std::fs::read(&forced).unwrap()).unwrap();
    let graph = doc["@graph"].as_array().unwrap();
    assert_eq!(
        v,
        json!({"output": s(&forced), "format": "case", "written": graph.len(), "unit": "nodes",
               "verified": false, "forced": true, "notes": []})
    );
    let described = bundle_node(graph, s(&bad))["core:description"].as_str().unwrap();
    assert!(
        described.contains(&format!("did NOT verify when exported ({failures} problems: ")),
        "{described}"
    );
    assert!(described.contains("do not rely on it"), "{described}");
    assert_case_validates(&forced);
    let forced_ts = out.join("forced.jsonl");
    let v = export(&bad, "timesketch", &forced_ts, &["--force"], 1);
    assert_eq!((&v["verified"], &v["forced"]), (&json!(false), &json!(true)));
    let rows = jsonl(&std::fs::read_to_string(&forced_ts).unwrap());
    assert_eq!(v["written"], rows.len());
    assert!(!rows.is_empty());
    assert_eq!(
        listing(),
        BTreeSet::from(["forced.jsonld".to_string(), "forced.jsonl".to_string()])
    );

    // An existing OUT: exit 2, untouched, checked before the bundle is read (even a missing one).
    let existing = out.join("existing.jsonl");
    std::fs::write(&existing, b"keep me\n").unwrap();
    for bundle in [good.clone(), root.join("missing.zip")] {
        for format in ["case", "timesketch", "csv"] {
            let o = run(&["export", s(&bundle), "--format", format, "-o", s(&existing), "--json"]);
            assert_eq!(code(&o), 2, "{format}: {}", stderr(&o));
            assert!(stdout(&o).is_empty(), "{}", stdout(&o));
            assert!(
                stderr(&o).contains(&format!("{} already exists; it was left untouched", s(&existing))),
                "{}",
                stderr(&o)
            );
            assert_eq!(std::fs::read(&existing).unwrap(), b"keep me\n");
        }
    }
    assert_eq!(listing().len(), 3, "{:?}", listing());

    // Could not run: --all means nothing to a CASE export; a missing bundle; nothing written.
    let nothing = out.join("nothing");
    let o = run(&["export", s(&good), "--format", "case", "--all", "-o", s(&nothing)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--all applies to --format timesketch and csv only"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "export",
        s(&root.join("missing.zip")),
        "--format",
        "csv",
        "-o",
        s(&nothing),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(listing().len(), 3, "{:?}", listing());

    // Intact: the text line names what was written.
    let ok = out.join("ok.csv");
    let o = run(&["export", s(&good), "--format", "csv", "-o", s(&ok)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = std::fs::read_to_string(&ok).unwrap().lines().count() - 1;
    assert_eq!(stdout(&o), format!("exported {rows} events to {} (csv)\n", s(&ok)));
}
