"""``caselink audit keygen|checkpoint|verify|log`` and ``caselink erase``; the DPA s.62 read log.

Also registers the hook that logs every ``cases show`` (consultation) and ``export`` (consultation,
or disclosure when there is a ``--recipient``) with its justification, identity and time.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from caselink import audit
from caselink.commands.assurance import run_in_transaction
from caselink.commands.cases import AFTER_READ
from caselink.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    DbOption,
    JsonOption,
    OfficerOption,
    fail,
    officer_name,
    open_store,
    print_json,
    refuse_out_over_store,
    require_officer,
    require_rationale,
)
from caselink.store import CaseStore
from caselink.store.models import CaseRow

audit_app = typer.Typer(help="The tamper-evident audit log: keys, signed checkpoints, verification.",
                        no_args_is_help=True)


@audit_app.command("keygen")
def keygen_command(
    out: Annotated[Path, typer.Option("--out", help="Private key file to create (the public key goes to OUT.pub).")],
) -> None:
    """Make an Ed25519 key pair for signing checkpoints; keep the private key away from the database."""
    if not out.parent.exists():
        fail(f"--out: folder {out.parent} does not exist", EXIT_BAD_INPUT)
    try:
        public_path = audit.write_key_pair(out)
    except audit.CheckpointError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    typer.echo(f"private key written to {out} (mode 600); public key to {public_path}")


def _read_bytes(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{option}: cannot read {path} ({exc.strerror})", EXIT_BAD_INPUT)


@audit_app.command("checkpoint")
def checkpoint_command(
    key: Annotated[Path, typer.Option("--key", help="The private key from `caselink audit keygen`.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed checkpoint (JSON).")],
    db: DbOption = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify the chain, log the checkpoint, then sign the head (which includes that entry).

    Refuses to sign a broken chain.
    """
    private_pem = _read_bytes(key, "--key")
    try:
        audit.checkpoint.load_private_key(private_pem)
    except audit.CheckpointError as exc:
        fail(f"--key: {key}: {exc}", EXIT_BAD_INPUT)
    if not out.parent.exists():
        fail(f"--out: folder {out.parent} does not exist", EXIT_BAD_INPUT)
    store = open_store(db)
    refuse_out_over_store(store, out, "checkpoint")
    try:
        with store.engine.connect() as connection:
            result = audit.verify(connection)
        if not result.ok:
            fail(f"not signing a broken chain: {result.message}", EXIT_FAILURE)
        with store.engine.begin() as connection:
            audit.record_event(connection, action="checkpoint", officer=officer_name(officer),
                               details={"verified_entries": result.n_entries, "out": out.name})
            signed = audit.make_checkpoint(connection, private_pem)
    finally:
        store.close()
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(signed, indent=2) + "\n", encoding="utf-8")
    partial.replace(out)
    if as_json:
        print_json({k: v for k, v in signed.items() if k != "anchors"})
    else:
        typer.echo(f"checkpoint of entry {signed['seq']} ({signed['entry_hash'][:16]}...) written to {out}")


@audit_app.command("verify")
def verify_command(
    db: DbOption = None,
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="A signed head.json to check against.")]
    = None,
    pubkey: Annotated[Path | None, typer.Option("--pubkey", help="The public key that signed the checkpoint.")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the whole chain; exit 0 when intact, 1 naming the first bad entry otherwise."""
    if (checkpoint is None) != (pubkey is None):
        fail("--checkpoint and --pubkey go together: a checkpoint is only trusted with its public key",
             EXIT_BAD_INPUT)
    signed: Any = None
    public_key: bytes | None = None
    if checkpoint is not None and pubkey is not None:
        try:
            signed = json.loads(_read_bytes(checkpoint, "--checkpoint"))
        except ValueError:
            fail(f"--checkpoint: {checkpoint} is not JSON (expected a file from `caselink audit checkpoint`)",
                 EXIT_BAD_INPUT)
        public_key = _read_bytes(pubkey, "--pubkey")
        try:
            audit.checkpoint.load_public_key(public_key)
        except audit.CheckpointError as exc:
            fail(f"--pubkey: {pubkey}: {exc}", EXIT_BAD_INPUT)
    store = open_store(db)
    try:
        with store.engine.connect() as connection:
            result = audit.verify(connection, signed, public_key)
    finally:
        store.close()
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        typer.echo(f"ok: {result.message}")
    if not result.ok:
        typer.echo(f"caselink: error: audit log verification failed: {result.message}", err=True)
        raise typer.Exit(EXIT_FAILURE)


@audit_app.command("log")
def log_command(
    db: DbOption = None,
    case: Annotated[str | None, typer.Option("--case", help="Only entries naming this case.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this kind of entry.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many entries.")] = 100,
    justification: Annotated[str | None, typer.Option(
        help="Why you are reading this case's trail (logged with --case; default 'audit log').")] = None,
    officer: OfficerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show audit entries, oldest first.

    A case's trail (``--case``) says who consulted the case and what was decided on it, so reading it
    is logged as a consultation of that case (DESIGN §6: every access), after the entries are read.
    """
    if action is not None and action not in audit.ACTIONS:
        fail(f"--action: '{action}' is not one of {', '.join(audit.ACTIONS)}", EXIT_BAD_INPUT)
    def read(connection: Any) -> tuple[list[dict[str, Any]], bool]:
        # One more than asked for, to tell the reader that the listing was cut (not the whole trail).
        found = list(itertools.islice(audit.read_entries(
            connection, case_id=case, action=action, limit=None if case else limit + 1), limit + 1))
        known = bool(found) or case is None or connection.execute(
            select(CaseRow.case_id).where(CaseRow.case_id == case)).first() is not None
        return [e.as_dict() for e in found], known

    entries, known = run_in_transaction(db, read)
    more = len(entries) > limit
    entries = entries[:limit]
    if not known:
        # An empty trail for a mistyped id read as "nothing was ever logged about this case".
        fail(f"--case: no case '{case}' in the store and nothing logged about it; `caselink cases list` shows "
             "the ids", EXIT_BAD_INPUT)
    if case is not None and entries:
        from caselink.commands.cases import log_case_view

        log_case_view(db, case, officer, justification, "audit log")
    if as_json:
        print_json({"entries": entries, "more": more})
        return
    if not entries:
        typer.echo("no audit entries match" + (f" for case {case}" if case else "")
                   + (f" with action {action}" if action else ""))
    for e in entries:
        ids = ", ".join(e["case_ids"][:5]) + (" ..." if len(e["case_ids"]) > 5 else "")
        typer.echo(f"{e['seq']:>7}  {e['at']}  {e['action']:<17} {e['officer']:<24} {ids}")
        if e["justification"]:
            typer.echo(f"         justification: {e['justification']}")
    if more:
        typer.echo(f"(the first {limit} entries, oldest first; more entries follow: raise --limit to see them)")


def erase_command(
    case_id: Annotated[str, typer.Argument(help="The case whose personal data is to be erased.")],
    officer: OfficerOption = None,
    rationale: Annotated[str | None, typer.Option("--rationale", help="The retention rule that applies.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a case's personal data (retention); the audit log stays verifiable."""
    who = require_officer(officer)
    reason = require_rationale(rationale, "the retention rule that applies")
    result = run_in_transaction(db, lambda c: audit.erase_case(c, case_id, who, reason))
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(f"erased {', '.join(result.erased_fields) or 'no personal fields (already empty)'} of case "
                   f"{case_id}; {result.n_redacted_entries} audit entr(y/ies) blanked; logged as entry "
                   f"{result.audit_seq}")



def log_read(store: CaseStore, action: str, case_ids: list[str] | None, details: dict[str, Any]) -> None:
    """AFTER_READ hook: record a consultation or disclosure (DPA 2018 s.62) with who, why and when."""
    who = require_officer(details.get("officer"))
    extra = {k: v for k, v in details.items() if k not in ("officer", "justification") and v is not None}
    try:
        with store.engine.begin() as connection:
            audit.record_event(connection, action=action, officer=who, case_ids=case_ids,
                               justification=details.get("justification"), details=extra)
    except audit.AuditError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.command("erase")(erase_command)
    if log_read not in AFTER_READ:
        AFTER_READ.append(log_read)
