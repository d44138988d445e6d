"""Clients that call only the instances registered with given tags (``connect(...,
tags={...})``), against a real `mosaic registry` and `mosaic serve image --tag k=v` servers:
who gets calls, several tags, instances that register later, nothing matching, and tags
where there is no registry."""

from __future__ import annotations

import time
from typing import Any

import pytest

import mosaic_rpc

from balance_support import ServedCounter, addresses, calls_by_address, wait_until
from conftest import StartImage
from servers import HOST, Server, free_port


def test_only_the_tagged_instances_get_calls(registry: Server, start_image: StartImage) -> None:
    a100 = start_image("--tag", "gpu=a100", registry=registry)
    a100_clip = start_image("--tag", "gpu=a100", "--tag", "models=clip", registry=registry)
    h100 = start_image("--tag", "gpu=h100", registry=registry)
    plain = start_image(registry=registry)
    untagged_key = start_image("--tag", "models=resnet50", registry=registry)
    everyone = [a100, a100_clip, h100, plain, untagged_key]
    with mosaic_rpc.connect("image", registry=registry.address) as client:
        # The registry lists all five (and their tags) to a client without tags.
        assert addresses(client) == {s.address for s in everyone}
    counter = ServedCounter(everyone)
    with mosaic_rpc.connect(
        "image", registry=registry.address, tags={"gpu": "a100"}, balancer="round_robin"
    ) as client:
        assert {s.address: dict(s.tags) for s in client.instances()} == {
            a100.address: {"gpu": "a100"},
            a100_clip.address: {"gpu": "a100", "models": "clip"},
        }
        for _ in range(40):
            client.ping()
        assert calls_by_address(client) == {a100.address: 20, a100_clip.address: 20}
    # By the servers' own counts: only the two tagged gpu=a100 served anything.
    assert counter.delta() == [20, 20, 0, 0, 0]


def test_several_tags_must_all_match(registry: Server, start_image: StartImage) -> None:
    both = start_image("--tag", "gpu=a100", "--tag", "models=resnet50,clip", registry=registry)
    only_gpu = start_image("--tag", "gpu=a100", registry=registry)
    only_models = start_image("--tag", "models=resnet50,clip", registry=registry)
    other_models = start_image("--tag", "gpu=a100", "--tag", "models=clip", registry=registry)
    both_and_more = start_image(
        "--tag", "gpu=a100", "--tag", "models=resnet50,clip", "--tag", "rack=r7", registry=registry
    )
    servers = [both, only_gpu, only_models, other_models, both_and_more]
    counter = ServedCounter(servers)
    wanted = {"gpu": "a100", "models": "resnet50,clip"}
    with mosaic_rpc.connect(
        "image", registry=registry.address, tags=wanted, balancer="round_robin"
    ) as client:
        # Extra tags on an instance do not keep it out; a missing or different one does.
        assert addresses(client) == {both.address, both_and_more.address}
        for _ in range(40):
            client.ping()
        assert calls_by_address(client) == {both.address: 20, both_and_more.address: 20}
    assert counter.delta() == [20, 0, 0, 0, 20]


def test_an_instance_registering_later_joins_only_with_the_tags(
    registry: Server, start_image: StartImage
) -> None:
    first = start_image("--tag", "gpu=a100", registry=registry)
    with mosaic_rpc.connect(
        "image", registry=registry.address, tags={"gpu": "a100"}, timeout=10
    ) as client:
        assert addresses(client) == {first.address}
        client.ping()
        untagged = start_image("--tag", "gpu=h100", registry=registry)
        plain = start_image(registry=registry)
        tagged = start_image("--tag", "gpu=a100", registry=registry)
        took = wait_until(lambda: tagged.address in addresses(client), 5, "the tagged newcomer")
        print(f"a tagged newcomer reached the client's list in {took * 1000:.0f} ms")
        # The list that brought the tagged newcomer also held the two that registered before
        # it: they were left out, not merely not seen yet.
        assert addresses(client) == {first.address, tagged.address}
        counter = ServedCounter([first, untagged, plain, tagged])
        for _ in range(60):
            client.ping()
        served = counter.delta()
        assert served[1:3] == [0, 0]
        assert served[0] + served[3] == 60 and served[3] >= 10  # the newcomer takes calls
    with mosaic_rpc.connect("image", registry=registry.address) as everyone:
        assert len(addresses(everyone)) == 4  # the registry does list them all


def test_nothing_matching_is_a_connect_error_naming_the_tags(
    registry: Server, start_image: StartImage
) -> None:
    start_image("--tag", "gpu=h100", registry=registry)
    start_image(registry=registry)
    with mosaic_rpc.connect("image", registry=registry.address, tags={"gpu": "a100"}) as client:
        assert client.instances() == ()
        started = time.monotonic()
        with pytest.raises(mosaic_rpc.ConnectError) as caught:
            client.ping(timeout=2)
        assert time.monotonic() - started < 2  # no waiting for an instance that never comes
        message = str(caught.value)
        print(message)
        assert message.startswith("no instance of image tagged gpu=a100 takes calls: ")
        assert message.endswith(
            f"image in the registry at {registry.address} lists 2, none with these tags"
        )

        # One registering with the tag (at weight 0: listed, sent nothing) is named as such.
        drained = start_image("--tag", "gpu=a100", "--weight", "0", registry=registry)
        wait_until(lambda: addresses(client) == {drained.address}, 5, "the drained one listed")
        with pytest.raises(
            mosaic_rpc.ConnectError, match=r"lists 3, 1 with these tags, all at weight 0$"
        ):
            client.ping(timeout=2)

        # Then one that takes calls: the same client works.
        ready = start_image("--tag", "gpu=a100", registry=registry)
        wait_until(lambda: ready.address in addresses(client), 5, "the tagged one listed")
        client.ping(timeout=5)
        assert calls_by_address(client) == {drained.address: 0, ready.address: 1}

    tags = {"models": "clip", "gpu": "a100"}
    with mosaic_rpc.connect("image", registry=registry.address, tags=tags) as client:
        with pytest.raises(
            mosaic_rpc.ConnectError,
            match=r"^no instance of image tagged gpu=a100, models=clip takes calls: .* lists 4, "
            r"none with these tags$",
        ):
            client.ping(timeout=2)


def test_nothing_listed_at_all_names_the_tags(registry: Server) -> None:
    with mosaic_rpc.connect(
        "image", registry=registry.address, service_name="nobody", tags={"gpu": "a100"}
    ) as client:
        with pytest.raises(
            mosaic_rpc.ConnectError,
            match=r"^no instance of nobody tagged gpu=a100 takes calls: nobody in the registry "
            r".* lists none$",
        ):
            client.ping(timeout=1)


def test_tags_with_a_static_address_list_are_a_value_error() -> None:
    dead = f"{HOST}:{free_port()}"
    with pytest.raises(
        ValueError, match="tags select among registered instances and need a registry"
    ):
        mosaic_rpc.connect("image", dead, tags={"gpu": "a100"})
    with pytest.raises(ValueError, match="need a registry"):
        mosaic_rpc.connect("image", [dead, dead], tags={"gpu": "a100", "models": "clip"})
    # No tags asked for is no selection: a static list is fine (nothing opens until a call).
    with mosaic_rpc.connect("image", dead, tags={}) as client:
        assert addresses(client) == {dead}


@pytest.mark.parametrize(
    ("tags", "error", "message"),
    [
        ("gpu=a100", TypeError, "tags must be a mapping of str to str"),
        ([("gpu", "a100")], TypeError, "tags must be a mapping of str to str"),
        ({"gpu": 100}, TypeError, "the value of 'gpu' must be str, not int"),
        ({1: "a100"}, TypeError, "keys must be str, not int"),
        ({"": "a100"}, ValueError, "a key is empty"),
    ],
)
def test_tags_are_checked(tags: Any, error: type[Exception], message: str) -> None:
    # Checked before anything is looked up: the registry address need not answer.
    with pytest.raises(error, match=message):
        mosaic_rpc.connect("image", registry=f"{HOST}:{free_port()}", tags=tags)
