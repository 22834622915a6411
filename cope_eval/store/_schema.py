"""Append-only, numbered migrations. Never edit a released one: add the next."""

MIGRATIONS: list[tuple[str, str]] = [
    ("m001_initial", """
        CREATE TABLE policy_versions (
            id TEXT PRIMARY KEY, policy TEXT NOT NULL, text TEXT NOT NULL, parent TEXT,
            note TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '', created TEXT NOT NULL
        );
        CREATE TABLE golden_sets (
            hash TEXT PRIMARY KEY, name TEXT NOT NULL, n_items INTEGER NOT NULL,
            source TEXT NOT NULL DEFAULT '', parent_hash TEXT, created TEXT NOT NULL
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            policy_version_id TEXT NOT NULL REFERENCES policy_versions(id),
            golden_hash TEXT NOT NULL REFERENCES golden_sets(hash),
            base_url TEXT NOT NULL, model TEXT NOT NULL, template TEXT NOT NULL, answer_mode TEXT NOT NULL,
            threshold REAL NOT NULL, concurrency INTEGER NOT NULL, status TEXT NOT NULL,
            n_items INTEGER NOT NULL, created TEXT NOT NULL, started TEXT, finished TEXT,
            heartbeat TEXT, runner_pid INTEGER, error TEXT
        );
        CREATE TABLE predictions (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL, score REAL, hard_label INTEGER, raw TEXT, error TEXT,
            latency_ms REAL, cached INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, item_id)
        ) WITHOUT ROWID;
        CREATE TABLE cache (
            key TEXT PRIMARY KEY, score REAL NOT NULL, hard_label INTEGER, raw TEXT
        ) WITHOUT ROWID;
    """),
]

MIGRATIONS.append(("m002_label_changes", """
    CREATE TABLE label_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        old_hash TEXT NOT NULL REFERENCES golden_sets(hash),
        new_hash TEXT NOT NULL REFERENCES golden_sets(hash),
        item_id TEXT NOT NULL, old_label INTEGER NOT NULL, new_label INTEGER NOT NULL,
        author TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL, created TEXT NOT NULL
    );
    CREATE INDEX label_changes_new_hash ON label_changes(new_hash)
"""))

MIGRATIONS.append(("m003_studies", """
    CREATE TABLE studies (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL,
        base_run_id TEXT NOT NULL REFERENCES runs(id),
        params TEXT NOT NULL DEFAULT '{}', author TEXT NOT NULL DEFAULT '', created TEXT NOT NULL
    );
    CREATE TABLE study_runs (
        study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        role TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
        run_id TEXT NOT NULL REFERENCES runs(id),
        PRIMARY KEY (study_id, role)
    );
    CREATE INDEX study_runs_run ON study_runs(run_id)
"""))

MIGRATIONS.append(("m004_triage", """
    CREATE TABLE triage_tags (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        policy TEXT NOT NULL, lineage TEXT NOT NULL REFERENCES golden_sets(hash), item_id TEXT NOT NULL,
        tag TEXT NOT NULL CHECK (tag IN ('policy_gap', 'label_error')),
        note TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
        run_id TEXT NOT NULL REFERENCES runs(id), policy_version_id TEXT NOT NULL REFERENCES policy_versions(id),
        golden_hash TEXT NOT NULL REFERENCES golden_sets(hash), gold_label INTEGER NOT NULL, score REAL,
        text TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
        done_by TEXT, done TEXT, resolved_hash TEXT REFERENCES golden_sets(hash),
        replaced TEXT
    );
    CREATE UNIQUE INDEX triage_tags_current ON triage_tags(policy, lineage, item_id) WHERE replaced IS NULL;
    CREATE INDEX triage_tags_policy ON triage_tags(policy, tag, status)
"""))

# The cache learns which server answered: keys now hash the run's endpoint, model and checkpoint
# (``jobs.AnswerSource``), so entries keyed on the request alone could be any server's answer and
# are dropped. ``cache.run_id`` names the run whose execution stored the answer.
MIGRATIONS.append(("m005_answer_source", """
    ALTER TABLE runs ADD COLUMN checkpoint TEXT;
    DELETE FROM cache;
    ALTER TABLE cache ADD COLUMN run_id TEXT
"""))

# Adaptive concurrency (``--concurrency auto``): ``runs.concurrency`` is then the cap, and the run
# records the level its limit settled on (NULL until an execution ends; always NULL when fixed).
MIGRATIONS.append(("m006_adaptive_concurrency", """
    ALTER TABLE runs ADD COLUMN adaptive INTEGER NOT NULL DEFAULT 0 CHECK (adaptive IN (0, 1));
    ALTER TABLE runs ADD COLUMN settled_concurrency INTEGER
"""))

# Runs execute in worker processes: the latest execution's progress (a JSON object written by its
# runner about once a second) is what another process, such as the app, shows while it runs.
MIGRATIONS.append(("m007_run_progress", """
    ALTER TABLE runs ADD COLUMN progress TEXT
"""))

# The dev/test discipline: each deliberate look at a run's test-split figures (``store.reveal_test``)
# is one row, counted per policy lineage (the policy's name) and golden-set lineage (its first
# version, so relabels and the split version itself count together) for the export card.
MIGRATIONS.append(("m008_test_reveals", """
    CREATE TABLE test_reveals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        policy TEXT NOT NULL, lineage TEXT NOT NULL REFERENCES golden_sets(hash),
        run_id TEXT NOT NULL REFERENCES runs(id), policy_version_id TEXT NOT NULL REFERENCES policy_versions(id),
        golden_hash TEXT NOT NULL REFERENCES golden_sets(hash),
        who TEXT NOT NULL DEFAULT '', place TEXT NOT NULL, created TEXT NOT NULL
    );
    CREATE INDEX test_reveals_policy ON test_reveals(policy, lineage)
"""))

# Suggested edits (``insight.suggest_edits``): each suggestion as the JSON of its record, kept so a
# page reload or another process finds it; never a policy version.
MIGRATIONS.append(("m009_suggestions", """
    CREATE TABLE suggestions (
        id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), created TEXT NOT NULL, body TEXT NOT NULL
    );
    CREATE INDEX suggestions_run ON suggestions(run_id, created)
"""))

# Who started a run from the app (the signed-in user, as ``policy_versions.author``): a new session
# follows its own latest run, never the newest in a shared workspace. '' for a run started with
# sign-in off or from a terminal.
MIGRATIONS.append(("m010_run_author", """
    ALTER TABLE runs ADD COLUMN author TEXT NOT NULL DEFAULT ''
"""))

# Every write of a run's predictions (a batch stored, errors forgotten for a resend) raises the run's
# ``predictions_version`` in the same transaction: a run's score file (``ScoreFiles``) names the
# version it holds and is used only while that is the run's version.
MIGRATIONS.append(("m011_predictions_version", """
    ALTER TABLE runs ADD COLUMN predictions_version INTEGER NOT NULL DEFAULT 0
"""))
