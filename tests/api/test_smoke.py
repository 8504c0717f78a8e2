async def test_login_registers_member_with_signup_gift(api):
    token, member_id = await api.login("alice")
    home = (await api.data("MemberHome", token=token))["me"]
    assert home["id"] == member_id
    assert home["pointsBalance"] == 100
    assert home["tier"]["code"] == "regular"
