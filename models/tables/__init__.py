"""The case database's tables (SQLAlchemy 2.0, typed). Alembic migrations mirror them."""

from models.tables.base import Base, UTCDateTime
from models.tables.cases import Case, CaseEvent, Detection, Evidence, StageRun
from models.tables.notify import Notification, NotifyCursor, NotifyPrefs
from models.tables.ops import Accountability, AuditEntry, AuditHead, Checkin
from models.tables.org import Camera, Grant, Unit, User, Zone

__all__ = [
    "Accountability",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Camera",
    "Case",
    "CaseEvent",
    "Checkin",
    "Detection",
    "Evidence",
    "Grant",
    "Notification",
    "NotifyCursor",
    "NotifyPrefs",
    "StageRun",
    "UTCDateTime",
    "Unit",
    "User",
    "Zone",
]
