"""Pure rules of the registry (no Django): identifiers, masking, the collision rule, the level rule."""
from apps.intel import domain
from apps.intel.domain import Edge, Node


def test_identifiers_are_normalised_and_checked():
    assert domain.normalise_plate("浙b·12345") == "浙B12345"
    assert domain.normalise_plate("浙Ｂ 7K2Q1") == "浙B7K2Q1"  # full-width folded
    assert domain.normalise_phone("+86 138-0574-1234") == "13805741234"
    assert domain.valid_id_number("330225198001010018")
    assert not domain.valid_id_number("330225198001010011")  # wrong check digit
    assert not domain.valid_id_number("33022519800101001")
    assert domain.plates_in("凌晨停着浙B·12345和皖K33821两辆车") == ["浙B12345", "皖K33821"]
    assert domain.phones_in("电话13805741234，座机0574-1234567") == ["13805741234"]


def test_masking():
    assert domain.mask_id_number("330225198001010018") == "330225********0018"
    assert domain.mask_name("张三丰") == "张某"
    assert domain.mask_name("") == ""


def _graph():
    nodes = {
        1: Node(1, "vessel", "浙象渔01233"),
        2: Node(2, "person", "张某", watch_level="key", roles="船主"),
        3: Node(3, "vehicle", "浙B12345"),
        4: Node(4, "person", "李某"),
        5: Node(5, "company", "冷库", watch_level="attention"),
    }
    edges = [
        Edge(10, 1, 2, "owns"),
        Edge(11, 2, 3, "same_case", label="3·12", closed_case="3·12"),
        Edge(12, 3, 4, "drives"),
        Edge(13, 4, 5, "paid"),
    ]
    return nodes, edges


def test_the_collision_rule_by_distance():
    nodes, edges = _graph()
    c = domain.collide([1], nodes, edges)
    assert c.watchlist == 0.7  # the owner, one link away, is a key person
    assert c.history == 0.7  # the owner was in closed case 3·12
    assert c.closed_cases == {"3·12"}
    first = c.chains[0]
    assert first["path"] == [1, 2] and first["hops"] == 1
    assert first["text"] == "浙象渔01233 — 所有 — 船主 张某（重点人员，3·12案）"
    # the company is four links away: not reached
    assert all(ch["element"] != 5 for ch in c.chains)
    # from the truck itself: its own closed case counts fully
    assert domain.collide([3], nodes, edges).history == 1.0
    # nothing watched, no case: no hit
    assert not domain.collide([4], {4: nodes[4]}, []).hit


def test_an_open_case_is_not_history():
    nodes, edges = _graph()
    edges = [e if e.id != 11 else Edge(11, 2, 3, "same_case", label="6·08") for e in edges]
    c = domain.collide([1], nodes, edges)
    assert c.history == 0.0 and c.watchlist == 0.7


def test_raise_level_one_step_capped_at_red():
    assert domain.raise_level("blue") == "yellow"
    assert domain.raise_level("orange") == "red"
    assert domain.raise_level("red") == "red"
    assert domain.raise_level(None) == "blue"
