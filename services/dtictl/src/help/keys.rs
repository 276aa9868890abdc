//! The catalogue key of each command's about and of each argument's help, by command path: the
//! names of the subcommands from `dtictl` down, joined by spaces (`""` is `dtictl` itself).
//!
//! Keys follow the path, so a new command or argument needs a row only where its help is shared
//! or named otherwise: the about of the command at `round open` is `cli-about-round-open`
//! ([`about_key`]), the help of an argument of its own, listed in [`OWN_ARGS`], is `cli-`, the
//! path and the argument's id (`round open` `deadline_in_hours`:
//! `cli-round-open-deadline-in-hours`, [`own_arg_key`]).

/// The key of the about of the command at `path`: `cli-about`, then the path's words, joined by
/// `-`.
pub(super) fn about_key(path: &str) -> String {
    std::iter::once("cli-about")
        .chain(path.split_whitespace())
        .collect::<Vec<_>>()
        .join("-")
}

/// The key of the help of the argument `id` of its own of the command at `path`: `cli-`, the
/// path's words and the id, joined by `-` (an id's `_` is a `-` too).
pub(super) fn own_arg_key(path: &str, id: &str) -> String {
    let words = std::iter::once("cli").chain(path.split_whitespace());
    let id = id.replace('_', "-");
    words.chain([id.as_str()]).collect::<Vec<_>>().join("-")
}

/// The arguments with help of their own ([`own_arg_key`]), by command path.
pub(super) const OWN_ARGS: &[(&str, &[&str])] = &[
    ("score", &["explain", "format"]),
    (
        "generate",
        &[
            "units",
            "seed",
            "registry_cohort",
            "missing_percent",
            "not_applicable_percent",
        ],
    ),
    ("framework show", &["json"]),
    ("framework add", &["input", "reason"]),
    (
        "token",
        &[
            "role",
            "unit",
            "department",
            "subject",
            "ttl_secs",
            "hs256_secret",
            "issuer",
            "audience",
            "tenant",
        ],
    ),
    ("bus dead-letters", &["consumer", "all"]),
    ("bus replay", &["consumer", "msg_id", "all"]),
    ("registry export", &["output"]),
    ("registry import", &["input"]),
    (
        "registry unit",
        &["name", "kind", "active_from", "active_until"],
    ),
    ("registry cohort", &["units"]),
    (
        "registry lineage",
        &["from", "to", "effective_year", "change", "note"],
    ),
    ("audit verify", &["framework"]),
    ("round open", &["deadline_in_hours", "units"]),
    ("round reopen", &["unit", "deadline_in_hours", "reason"]),
    ("submit", &["input", "units"]),
    ("sync report", &["year", "framework", "format"]),
    ("sync plan", &["all"]),
    ("sync start", &["plan_digest", "wait", "wait_secs"]),
    ("sync status", &["run_id"]),
    ("sync log", &["run_id", "limit"]),
    ("owner submit", &["file", "departments"]),
    ("owner show", &["department"]),
    ("owner completeness", &["department"]),
    ("verify list", &["state"]),
    ("verify decide", &["file", "accept_rest", "all_accept"]),
    ("verify clarify", &["unit", "indicators", "questions"]),
    ("verify complete", &["units", "all", "accept_undecided"]),
    ("publication show", &["revision"]),
    ("objection file", &["unit", "indicator"]),
    ("objection list", &["unit"]),
    ("objection answer", &["id", "answer", "uphold", "reject"]),
    ("draft set", &["file", "not_applicable_reason"]),
    ("draft not-applicable", &["indicator", "reason"]),
    ("draft clear", &["indicator"]),
    ("draft submit", &["request_id"]),
    ("what-if", &["set", "not_applicable", "clear"]),
    ("evidence upload", &["indicator", "file", "content_type"]),
    ("evidence list", &["indicator", "include_removed"]),
    ("evidence download", &["output", "unit"]),
    ("evidence remove", &["reason", "unit"]),
    ("form template", &["unit", "year", "fill"]),
    ("form import", &["file", "framework", "year", "submit"]),
    ("export publication", &["revision"]),
];

/// The key of the help of each argument whose help is shared or is named otherwise: command path,
/// argument id (the field's name), key. A path `*` is any command: the help of an argument
/// several commands share (the connection to the services, the round a command is about…), used
/// where neither a row here nor [`OWN_ARGS`] names the command itself. The arguments of `dtictl`
/// itself (path `""`) are global: each command shows them as they are here.
pub(super) const SHARED_ARGS: &[(&str, &str, &str)] = &[
    ("", "framework_dir", "cli-framework-dir"),
    ("", "json", "cli-json"),
    ("", "lang", "cli-lang"),
    ("*", "hs256_secret", "cli-arg-hs256-secret"),
    ("*", "tenant", "cli-arg-tenant"),
    ("*", "submission_endpoint", "cli-arg-submission-endpoint"),
    ("*", "evidence_endpoint", "cli-arg-evidence-endpoint"),
    ("*", "scoring_endpoint", "cli-arg-scoring-endpoint"),
    ("*", "ranking_endpoint", "cli-arg-ranking-endpoint"),
    (
        "*",
        "verification_endpoint",
        "cli-arg-verification-endpoint",
    ),
    (
        "*",
        "national_sync_endpoint",
        "cli-arg-national-sync-endpoint",
    ),
    ("*", "ca_file", "cli-arg-ca-file"),
    ("*", "token", "cli-arg-token"),
    ("*", "year", "cli-arg-year"),
    ("*", "framework", "cli-arg-framework"),
    ("*", "unit", "cli-arg-unit"),
    ("*", "output", "cli-arg-output"),
    ("*", "database_url", "cli-arg-database-url"),
    ("*", "database_tls_ca_file", "cli-arg-database-tls-ca-file"),
    ("*", "database_tenant", "cli-arg-database-tenant"),
    ("*", "basis", "cli-arg-basis"),
    ("*", "reason", "cli-arg-reason"),
    ("*", "group", "cli-arg-group"),
    ("*", "input", "cli-arg-input"),
    ("*", "explain", "cli-arg-explain"),
    ("*", "id", "cli-arg-evidence-id"),
    ("*", "limit", "cli-arg-limit"),
    ("*", "page_size", "cli-arg-page-size"),
    ("*", "as_unit", "cli-arg-as-unit"),
    ("framework show", "id", "cli-arg-framework"),
    ("audit verify", "year", "cli-arg-round-year"),
    (
        "registry import",
        "expected_revision",
        "cli-registry-expected-revision",
    ),
    ("registry import", "reason", "cli-registry-reason"),
    ("registry unit", "unit_id", "cli-registry-unit-id"),
    ("registry unit", "reason", "cli-registry-reason"),
    ("registry cohort", "reason", "cli-registry-reason"),
    ("registry lineage", "reason", "cli-registry-reason"),
    ("submit", "year", "cli-arg-round-year"),
    ("sync plan", "year", "cli-arg-national-year"),
    ("sync start", "year", "cli-arg-national-year"),
    ("sync log", "year", "cli-arg-national-year"),
    ("owner show", "year", "cli-arg-national-year"),
    ("owner completeness", "year", "cli-arg-national-year"),
    ("verify show", "unit", "cli-arg-the-unit"),
    ("draft show", "framework", "cli-arg-framework-of-unit"),
    ("draft set", "framework", "cli-arg-framework-of-unit"),
    (
        "draft not-applicable",
        "framework",
        "cli-arg-framework-of-unit",
    ),
    ("draft clear", "framework", "cli-arg-framework-of-unit"),
    ("draft submit", "framework", "cli-arg-framework-of-unit"),
    ("draft versions", "framework", "cli-arg-framework-of-unit"),
    ("scorecard", "framework", "cli-arg-framework-of-unit"),
    ("what-if", "framework", "cli-arg-framework-of-unit"),
    ("position", "framework", "cli-arg-framework-of-unit"),
    ("evidence upload", "framework", "cli-arg-framework-of-unit"),
    ("evidence list", "framework", "cli-arg-framework-of-unit"),
    ("export side-by-side", "unit", "cli-arg-the-unit"),
    ("export national-form", "year", "cli-arg-national-year"),
    ("export scorecard", "framework", "cli-arg-framework-of-unit"),
];
