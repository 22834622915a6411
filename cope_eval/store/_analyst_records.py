"""The store's SQL for what analysts record about runs: studies (a run's variant runs), looks at the
test split, suggested edits and error-triage tags. A part of ``Store``, which it is mixed into: it
uses the store's connection, lock and query helpers, and its runs, policy versions and golden-set
lineages."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from ..errors import NotFoundError
from ..records import Study, StudyRun, TriageTag
from ._time import utc_now

TRIAGE_COLUMNS = ", ".join(f.name for f in dataclasses.fields(TriageTag))


class AnalystRecords:
    """``Store``'s methods for studies, test-split looks, suggestions and triage tags."""

    # -- studies -------------------------------------------------------------------------------
    def put_study(self, study: Study) -> None:
        """Store a study and its runs (the runs themselves must exist) in one transaction."""
        with self._lock, self._transaction():
            self._db.execute("INSERT INTO studies (id, kind, base_run_id, params, author, created) VALUES (?, ?, ?, ?, ?, ?)",
                             (study.id, study.kind, study.base_run_id, json.dumps(study.params, sort_keys=True),
                              study.author, study.created or utc_now()))
            self._db.executemany("INSERT INTO study_runs (study_id, role, label, run_id) VALUES (?, ?, ?, ?)",
                                 [(study.id, r.role, r.label, r.run_id) for r in study.runs])

    def study(self, study_id: str) -> Study:
        rows = self._query("SELECT id, kind, base_run_id, params, author, created FROM studies WHERE id = ?", (study_id,))
        if not rows:
            raise NotFoundError(f"No study {study_id!r} in this workspace's store.")
        return self._study(rows[0])

    def studies(self, kind: str | None = None) -> list[Study]:
        """Studies in the order they were created (ids and times are only to the second), of one kind
        when given."""
        sql = "SELECT id, kind, base_run_id, params, author, created FROM studies"
        rows = self._query(sql + (" WHERE kind = ?" if kind else "") + " ORDER BY rowid", (kind,) if kind else ())
        return [self._study(row) for row in rows]

    def _study(self, row: tuple) -> Study:
        runs = self._query("SELECT role, label, run_id FROM study_runs WHERE study_id = ? ORDER BY rowid", (row[0],))
        return Study(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], tuple(StudyRun(*r) for r in runs))

    # -- looks at the test split, suggestions, triage tags -----------------------------------------
    def record_test_reveal(self, run_id: str, *, who: str, place: str) -> int:
        """Record one look at ``run_id``'s test-split figures (``reveal_test``); the row's id."""
        run = self.run(run_id)
        policy = self.policy_version(run.policy_version_id).policy
        lineage = self.golden_lineage(run.golden_hash)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO test_reveals (policy, lineage, run_id, policy_version_id, golden_hash, who, place, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (policy, lineage, run.id, run.policy_version_id, run.golden_hash, who, place, utc_now()))
        return int(cursor.lastrowid)

    def test_reveals(self, policy: str, lineage: str) -> pd.DataFrame:
        """Every recorded look at the test split of golden-set lineage ``lineage`` by versions of
        ``policy``, oldest first: id, run_id, policy_version_id, golden_hash, who, place, created."""
        return self._frame("SELECT id, run_id, policy_version_id, golden_hash, who, place, created FROM test_reveals "
                           "WHERE policy = ? AND lineage = ? ORDER BY id", (policy, lineage))

    def put_suggestion(self, suggestion_id: str, run_id: str, created: str, body: str) -> None:
        """Keep a suggested edit (``body``: its record as JSON), replacing one with the same id."""
        self._execute("INSERT OR REPLACE INTO suggestions (id, run_id, created, body) VALUES (?, ?, ?, ?)",
                      (suggestion_id, run_id, created, body))

    def suggestion(self, suggestion_id: str) -> str:
        """A kept suggestion's JSON; NotFoundError when there is none."""
        rows = self._query("SELECT body FROM suggestions WHERE id = ?", (suggestion_id,))
        if not rows:
            raise NotFoundError(f"No suggestion {suggestion_id!r} in this workspace.")
        return rows[0][0]

    def suggestions(self, run_id: str | None = None) -> list[str]:
        """Kept suggestions' JSON (of one run when given), oldest first."""
        where, params = ("WHERE run_id = ? ", (run_id,)) if run_id is not None else ("", ())
        return [row[0] for row in self._query(f"SELECT body FROM suggestions {where}ORDER BY created, id", params)]

    def put_triage_tag(self, tag: TriageTag) -> int:
        """Store ``tag`` as the current one for its (policy, lineage, item); the one it replaces is
        kept as history. Returns the new row id."""
        now = utc_now()
        with self._lock, self._transaction():
            self._db.execute("UPDATE triage_tags SET replaced = ? WHERE policy = ? AND lineage = ? AND item_id = ? "
                             "AND replaced IS NULL", (now, tag.policy, tag.lineage, tag.item_id))
            names = [f.name for f in dataclasses.fields(TriageTag) if f.name != "id"]
            values = [getattr(tag, name) for name in names]
            values[names.index("created")] = tag.created or now
            marks = ", ".join("?" * len(names))
            cursor = self._db.execute(f"INSERT INTO triage_tags ({', '.join(names)}) VALUES ({marks})", values)
            return int(cursor.lastrowid)

    def clear_triage_tag(self, policy: str, lineage: str, item_id: str) -> bool:
        """Withdraw the current tag of an item (kept as history); False when it had none."""
        with self._lock:
            cursor = self._db.execute("UPDATE triage_tags SET replaced = ? WHERE policy = ? AND lineage = ? "
                                      "AND item_id = ? AND replaced IS NULL", (utc_now(), policy, lineage, item_id))
            return cursor.rowcount > 0

    def triage_tag(self, tag_id: int) -> TriageTag:
        """A current tag by row id (a replaced or withdrawn one is not found)."""
        rows = self._query(f"SELECT {TRIAGE_COLUMNS} FROM triage_tags WHERE id = ? AND replaced IS NULL", (tag_id,))
        if not rows:
            raise NotFoundError(f"No current triage tag {tag_id!r} in this workspace's store.")
        return TriageTag(*rows[0])

    def triage_tags(self, policy: str, *, lineage: str | None = None, tag: str | None = None,
                    status: str | None = None) -> pd.DataFrame:
        """Current tags of a policy (one lineage, tag kind or status when given), oldest first;
        columns are TriageTag's fields."""
        where, params = ["policy = ?", "replaced IS NULL"], [policy]
        for column, value in (("lineage", lineage), ("tag", tag), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return self._frame(f"SELECT {TRIAGE_COLUMNS} FROM triage_tags WHERE {' AND '.join(where)} ORDER BY id",
                           tuple(params))

    def triage_tag_history(self, policy: str, lineage: str, item_id: str) -> pd.DataFrame:
        """Every tag an item has had for a policy, oldest first; ``replaced`` is set on all but the current one."""
        return self._frame(f"SELECT {TRIAGE_COLUMNS}, replaced FROM triage_tags WHERE policy = ? AND lineage = ? "
                           "AND item_id = ? ORDER BY id", (policy, lineage, item_id))

    def set_triage_status(self, tag_id: int, status: str, *, by: str, resolved_hash: str | None = None) -> None:
        """Mark a current tag ``done`` (by whom, now, and for a label error the corrected version) or ``open`` again."""
        done = status == "done"
        with self._lock:
            cursor = self._db.execute(
                "UPDATE triage_tags SET status = ?, done_by = ?, done = ?, resolved_hash = ? "
                "WHERE id = ? AND replaced IS NULL",
                (status, by if done else None, utc_now() if done else None, resolved_hash if done else None, tag_id))
            if cursor.rowcount == 0:
                raise NotFoundError(f"No current triage tag {tag_id!r} in this workspace's store.")
