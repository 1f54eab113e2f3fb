"""core/errors.py: the protocol errors both IKE versions share, and IKEv1's on top of them
(behaviour of IKEv1's classes unchanged: notify, text, which except clauses catch them)."""

from __future__ import annotations

import pytest

from pyipsec.core import errors
from pyipsec.core.ikev1 import errors as v1
from pyipsec.core.ikev1.auth import AuthError
from pyipsec.wire.ikev1.constants import NotifyMessageType


def test_ikev1_errors_are_the_shared_classes_with_ikev1_notifies() -> None:
    e = v1.NoProposalChosen("nothing offered matches")
    assert isinstance(e, errors.RemoteProtocolError) and isinstance(e, v1.RemoteProtocolError)
    assert not isinstance(e, errors.LocalProtocolError)
    assert e.notify is NotifyMessageType.NO_PROPOSAL_CHOSEN
    assert str(e) == "NO_PROPOSAL_CHOSEN: nothing offered matches"
    local = v1.LocalProtocolError("no proposal to offer")
    assert isinstance(local, errors.LocalProtocolError)
    assert local.notify is NotifyMessageType.PAYLOAD_MALFORMED and local.detail
    assert str(v1.InvalidSpi()) == "INVALID_SPI"


def test_error_for_notify_keeps_an_unlisted_notify() -> None:
    e = v1.error_for_notify(NotifyMessageType.INVALID_HASH_INFORMATION, "x")
    assert type(e) is v1.RemoteProtocolError
    assert e.notify is NotifyMessageType.INVALID_HASH_INFORMATION
    with pytest.raises(errors.ProtocolError):
        raise e


def test_auth_error_is_a_remote_error_apart_from_ikev1s_protocol_errors() -> None:
    """The phase-1 code catches IKEv1's ProtocolError and AuthError in separate clauses
    (AuthError answers with an authentication failure): it must stay out of the first."""
    e = AuthError("signature does not verify", NotifyMessageType.INVALID_SIGNATURE)
    assert isinstance(e, errors.RemoteProtocolError)
    assert not isinstance(e, v1.ProtocolError)
    assert e.notify is NotifyMessageType.INVALID_SIGNATURE
    assert str(e) == "signature does not verify"
    assert repr(e) == "AuthError('signature does not verify')"
