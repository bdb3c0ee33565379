"""The error hierarchy of the core.

Every error the core raises on purpose derives from ``SunledgerError``; the API
maps each class to one HTTP status in a single handler and answers
``{"error": "<ClassName>", "detail": "...", "code": "...", "params": {...}}``: an error
raised with a ``Message`` (traceability/messages.py) carries its code and parameters,
which the pages translate; one raised with a plain string has neither (API clients and
logs read ``detail`` either way).
"""

from __future__ import annotations

from traceability.messages import Message


class SunledgerError(Exception):
    """Base of every deliberate error; ``status_code`` is the HTTP mapping."""

    status_code: int = 500

    def __init__(self, detail: str | Message) -> None:
        self.message = detail if isinstance(detail, Message) else None
        self.detail = detail.text if isinstance(detail, Message) else detail
        super().__init__(self.detail)

    def extra(self) -> dict[str, object]:
        """Fields an HTTP answer adds beside ``error`` and ``detail``."""
        return {}

    def coded(self) -> dict[str, object]:
        """``code`` and ``params`` of an answer, when the error has a catalog message."""
        return {} if self.message is None else self.message.as_json()


class Invalid(SunledgerError):
    """The input is malformed or breaks a rule."""

    status_code = 422


class NotFound(SunledgerError):
    """The thing asked for does not exist."""

    status_code = 404


class Conflict(SunledgerError):
    """The request contradicts stored state (e.g. the same id with other content)."""

    status_code = 409


class Forbidden(SunledgerError):
    """The caller may not do this."""

    status_code = 403


class Unauthenticated(SunledgerError):
    """No valid credentials: a missing, malformed, unknown, revoked or expired API key."""

    status_code = 401


class VerificationError(SunledgerError):
    """A proof, signature or hash did not verify.

    ``expected`` and ``computed`` carry the two values that disagreed, when
    there are two, so a caller can show both.
    """

    status_code = 422

    def __init__(
        self,
        detail: str | Message,
        *,
        expected: object | None = None,
        computed: object | None = None,
    ) -> None:
        super().__init__(detail)
        self.expected = expected
        self.computed = computed


class ChainUnavailable(SunledgerError):
    """The chain did not answer (node down, network error) or has no anchor contract yet."""

    status_code = 503


class RpcError(SunledgerError):
    """A chain's JSON-RPC endpoint failed or answered with an error.

    A verifier reports it as "chain unreachable" (exit 13), never as a failed
    check: nothing was learnt about the bundle. Ask again later or elsewhere.
    """

    status_code = 502
