"""The case store's tables (SQLAlchemy 2, typed declarative mapping).

One schema for SQLite (the embedded default) and PostgreSQL (production); migrations
live in :mod:`fairwatch.cases.migrations` (Alembic). Dates are ``date`` (China local
days), instants are timezone-aware UTC ``datetime``. Free-form structures (finding
payloads, penalty explanations) are JSON.

Personal data stays pseudonymous: users are staff and platform accounts (names are
logins, not natural persons' names); complainants are opaque tokens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Bureau(Base):
    """A market-regulation authority (national, provincial, city or county)."""

    __tablename__ = "bureaus"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(16))  # national | province | city | county


class JurisdictionRule(Base):
    """Routes a lead: the longest ``region_prefix`` match, then the highest ``priority``."""

    __tablename__ = "jurisdiction_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_prefix: Mapped[str] = mapped_column(String(6))  # "" matches everything
    family_prefix: Mapped[str] = mapped_column(String(64), default="")  # "" = any family
    bureau_id: Mapped[str] = mapped_column(ForeignKey("bureaus.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    bureau_id: Mapped[str | None] = mapped_column(ForeignKey("bureaus.id"), nullable=True)
    #: platforms a platform account speaks for (its own platforms only)
    platform_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Alert(Base):
    """Findings of one detector about one subject over overlapping periods."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    family: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    dismiss_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dismiss_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    legal_basis: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: optimistic-locking counter, bumped by every change
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    findings: Mapped[list[AlertFinding]] = relationship(
        back_populates="alert", order_by="AlertFinding.id"
    )

    __mapper_args__ = {"version_id_col": version}
    #: the analyst's queue: open alerts by descending score
    __table_args__ = (Index("ix_alerts_queue", "status", "score", "id"),)


class AlertFinding(Base):
    """One finding as a monitoring run reported it, merged into an alert."""

    __tablename__ = "alert_findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    finding_id: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    alert: Mapped[Alert] = relationship(back_populates="findings")


class Lead(Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), unique=True)
    bureau_id: Mapped[str] = mapped_column(ForeignKey("bureaus.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new|verified|case|closed
    found_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    verification_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), unique=True)
    bureau_id: Mapped[str] = mapped_column(ForeignKey("bureaus.id"), index=True)
    #: pending_approval | open | decision_proposed | decided | rectification | review | closed
    status: Mapped[str] = mapped_column(String(24), default="pending_approval", index=True)
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    subject_entity_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sector: Mapped[str] = mapped_column(String(32), default="other")
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    opened_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    joint_bureaus: Mapped[list[Any]] = mapped_column(JSON, default=list)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    close_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class Evidence(Base):
    """A file in the content-addressed evidence store (SHA-256 of its bytes)."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("case_id", "sha256"),)


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    #: penalty | warning | guidance | interview | no_penalty
    kind: Mapped[str] = mapped_column(String(16))
    provision: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fine_cny: Mapped[float | None] = mapped_column(Float, nullable=True)
    band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    facts: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[list[Any]] = mapped_column(JSON, default=list)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | approved


class Rectification(Base):
    __tablename__ = "rectifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    order_text: Mapped[str] = mapped_column(Text)
    ordered_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    report_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reported_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="ordered")  # ordered|reported


class Review(Base):
    """A re-run of the originating detector on later data."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(16))
    stopped: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CreditEntry(Base):
    """A decision as the credit engine reads it (:class:`fairwatch.law.credit.Decision`)."""

    __tablename__ = "credit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Disclosure(Base):
    """What the public portal shows of a decided case."""

    __tablename__ = "disclosures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    case_number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_on: Mapped[dt.date] = mapped_column(Date)


class Complaint(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complainant: Mapped[str] = mapped_column(String(64))  # an opaque token, never a name
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataBatch(Base):
    """A data batch a platform submitted through the API (ingest result)."""

    __tablename__ = "data_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    batch_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyRecord(Base):
    """The first response to a request with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotency"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    route: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [] = every event
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Outbox(Base):
    """Status-change events waiting for (or done with) webhook delivery."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AuditHead(Base):
    """The single row that serialises audit appends (locked FOR UPDATE)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One change, chained to the previous entry by its hash."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
