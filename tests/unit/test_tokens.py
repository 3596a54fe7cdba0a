from kiosk.domain.tokens import is_well_formed, new_token, token_hash


def test_tokens_are_random_url_safe_and_at_least_128_bits():
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert is_well_formed(token)
        assert len(token) * 6 >= 128  # base64url: six bits a character


def test_only_a_hash_is_derived_and_it_is_stable():
    token = new_token()
    assert token_hash(token) == token_hash(token)
    assert token not in token_hash(token)
    assert len(token_hash(token)) == 64


def test_malformed_tokens_are_recognised():
    assert not is_well_formed("")
    assert not is_well_formed("short")
    assert not is_well_formed("a" * 31 + "/")
    assert not is_well_formed("a" * 33)
    assert not is_well_formed("../../etc/passwd")
