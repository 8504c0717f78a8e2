"""Personal data at rest: AES-GCM under a key ring, bound to its place, found by a blind index that
survives key rotation; production refuses to start without its keys."""
import base64

import pytest

from persistence.personal_data import PersonalDataCipher, PersonalDataError
from server.settings import Settings, SettingsError

OLD, NEW = b"o" * 32, b"n" * 32


def test_sealed_text_opens_only_for_its_place():
    cipher = PersonalDataCipher(NEW)
    sealed = cipher.seal("13800138000", "members.phone:1")
    assert "13800138000" not in sealed and sealed.startswith("v1.")
    assert sealed != cipher.seal("13800138000", "members.phone:1")  # a fresh nonce each time
    assert cipher.open(sealed, "members.phone:1") == "13800138000"
    with pytest.raises(PersonalDataError):
        cipher.open(sealed, "members.phone:2")  # copied onto another member, it does not open
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(PersonalDataError):
        cipher.open(tampered, "members.phone:1")


def test_keys_rotate_old_text_still_opens_and_is_still_found():
    before = PersonalDataCipher(OLD)
    sealed, index = before.seal("13800138000", "p"), before.index("13800138000")
    after = PersonalDataCipher(NEW, (OLD,))
    assert after.open(sealed, "p") == "13800138000"
    assert not after.sealed_with_current_key(sealed) and after.sealed_with_current_key(after.seal("x", "p"))
    assert index in after.indexes("13800138000") and after.index("13800138000") != index
    with pytest.raises(PersonalDataError):
        PersonalDataCipher(NEW).open(sealed, "p")  # the old key gone from the ring: it no longer opens


def test_the_blind_index_is_not_the_number():
    index = PersonalDataCipher(NEW).index("13800138000")
    assert len(index) == 64 and "13800138000" not in index
    assert PersonalDataCipher(OLD).index("13800138000") != index  # keyed: no lookup table across deployments


@pytest.mark.parametrize("env, missing", [
    ({"LOYALTY_ENV": "production", "LOYALTY_DATA_KEY": base64.b64encode(NEW).decode()}, "LOYALTY_SECRET_KEY"),
    ({"LOYALTY_ENV": "production", "LOYALTY_SECRET_KEY": "s" * 32}, "LOYALTY_DATA_KEY"),
    ({"LOYALTY_ENV": "production", "LOYALTY_SECRET_KEY": "short", "LOYALTY_DATA_KEY": base64.b64encode(NEW).decode()},
     "LOYALTY_SECRET_KEY"),
    ({"LOYALTY_DATA_KEY": base64.b64encode(b"too short").decode()}, "LOYALTY_DATA_KEY"),
    ({"LOYALTY_DATA_OLD_KEYS": "not base64!"}, "LOYALTY_DATA_OLD_KEYS"),
])
def test_production_refuses_to_start_without_its_keys(env, missing):
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)
