"""Event records with a real model as structure labeler (YOLOX on the street photo)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.backends import load_backend
from detector.boxes import iou_many
from detector.events import event_json, from_detections
from detector.registration import NO_SHIFT
from detector.reporting import EventMaker, change_score
from detector.settings import DetectorSettings, ZoneOverrides
from detector.structure import StructureLabeler
from detector.tracking import Tracker
from detector.tracks import Track
from detector.transient import TransientFilter
from detector.zonemaps import ZoneMaps
from geofence import Zone, ZoneSet
from synth.renderer import render
from synth.suite import get_scenario

CAR = (666, 593, 965, 770)  # the car in street.jpg (source pixels)


@pytest.fixture(scope="module")
def street(shared_data: Path) -> tuple[np.ndarray, StructureLabeler]:
    image = cv2.imread(str(shared_data / "images" / "street.jpg"))
    backend = load_backend(shared_data / "models" / "yolox_nano_coco_416.onnx")
    return image, StructureLabeler(backend, ["car"])


def _maker(image: np.ndarray, labeler: StructureLabeler, classes: list[str]) -> EventMaker:
    h, w = image.shape[:2]
    zones = ZoneSet([Zone("street", "南屿镇/旗山村", [(0, 0), (1, 0), (1, 1), (0, 1)])], [], w, h)
    base = DetectorSettings(structure_classes=["car"])
    maps = ZoneMaps(zones, base, {"street": ZoneOverrides(structure_classes=classes)}, (384, 384))
    return EventMaker("cam", maps, base, labeler)


def _track(maps_scale: float) -> Track:
    x1, y1, x2, y2 = (round(v * maps_scale) for v in CAR)
    return Track(1, "street", (x1, y1, x2, y2), 0.0, 100.0, 0.0, strength=2.0)


def test_the_structure_model_names_and_scores_the_change(
    street: tuple[np.ndarray, StructureLabeler],
) -> None:
    image, labeler = street
    maker = _maker(image, labeler, ["car"])
    before = np.full_like(image, 128)  # the place was empty
    track = _track(maker.maps.scale)
    event = maker.confirmed(track, image, before, NO_SHIFT, 100.0)
    assert event is not None
    assert event.label == "car" and event.event == "confirmed"
    assert event.score > change_score(2.0)  # the model agrees: the score goes up
    assert event.unit == "南屿镇/旗山村" and event.confirmed_s == 100.0
    assert all(abs(a - b) < 5 for a, b in zip(event.bbox, CAR, strict=True))
    assert track.confirmed_at is None and track.label == "change"  # the reporter changes no track
    rows = maker.to_detections([event])
    assert rows.class_name == ("car",) and int(rows.class_id[0]) == 0
    assert from_detections(rows) == [event]  # one type from model to evidence, and back
    assert event_json(rows)[0] == {k: v for k, v in event.to_json().items()}


def test_a_class_that_does_not_count_in_the_zone_is_not_reported(
    street: tuple[np.ndarray, StructureLabeler],
) -> None:
    image, labeler = street
    maker = _maker(image, labeler, ["truck"])  # this zone counts only trucks
    before = np.full_like(image, 128)
    assert maker.confirmed(_track(maker.maps.scale), image, before, NO_SHIFT, 100.0) is None
    assert maker.suppressed == 1


def test_transient_model_and_structure_model_overrule(
    street: tuple[np.ndarray, StructureLabeler],
) -> None:
    """People and vehicles make a candidate transient, unless the structure model claims it."""
    image, labeler = street
    flt = TransientFilter(labeler.backend)
    changed = np.zeros(image.shape[:2], bool)
    changed[CAR[1] : CAR[3], CAR[0] : CAR[2]] = True
    tracker = Tracker()
    car = Track(1, "street", CAR, 0.0, 100.0, 50.0)
    tracker.tracks.append(car)
    verdicts = flt.review(image, [car], changed, 1.0, (0.0, 0.0), sample=20)
    assert verdicts == {1: True} and not car.transient  # the filter changes no track
    tracker.apply_transient(verdicts, 20)
    assert car.transient and car.stable_since == 100.0  # the clock restarts
    empty = (5, 5, 60, 60)  # sky in the corner: nobody there
    sky = Track(2, "street", empty, 0.0, 100.0, 50.0)
    tracker.tracks.append(sky)
    changed[5:60, 5:60] = True
    tracker.apply_transient(flt.review(image, [sky], changed, 1.0, (0.0, 0.0), sample=20), 20)
    assert not sky.transient and sky.stable_since == 50.0 and sky.transient_checked == 20
    claimed = Track(3, "street", CAR, 0.0, 100.0, 50.0)
    verdicts = flt.review(image, [claimed], changed, 1.0, (0.0, 0.0), sample=20, labeler=labeler)
    assert verdicts == {3: False}  # "a car" is a structure class of this labeler
    assert flt.runs == 3 * 2  # whole frame + one crop per look


def test_a_label_under_its_calibrated_confidence_is_a_change(
    street: tuple[np.ndarray, StructureLabeler],
) -> None:
    image, labeler = street
    strict = StructureLabeler(labeler.backend, ["car"], floors={"car": 0.999})
    maker = _maker(image, strict, ["car"])
    before = np.full_like(image, 128)
    event = maker.confirmed(_track(maker.maps.scale), image, before, NO_SHIFT, 100.0)
    assert event is not None and event.label == "change"  # reported, but not named
    assert maker.untrusted == 1 and maker.suppressed == 0
    assert event.score < change_score(2.0)
    with pytest.raises(ValueError, match="floors"):
        StructureLabeler(labeler.backend, ["car"], floors={"car": 1.5})


def test_the_shipped_model_has_calibrated_confidences() -> None:
    from detector.structure import default_structure_model, load_label_floors

    floors = load_label_floors(default_structure_model())
    assert set(floors) == {
        "steel_roof_shed",
        "building_extension",
        "scaffolding",
        "building_materials",
        "construction_machinery",
    }
    assert all(0.0 <= v <= 1.0 for v in floors.values())
    assert floors["building_materials"] > floors["steel_roof_shed"]  # the weak class


def test_a_stack_of_pipes_is_not_an_animal(street: tuple[np.ndarray, StructureLabeler]) -> None:
    """YOLOX-nano calls the stacked pipes of a held-out ``machinery_materials`` a giraffe
    (0.49): no wild animal walks through a village, so only those that do count."""
    scene = get_scenario("machinery_materials")
    frame = next(render(dataclasses.replace(scene, seed=1019, clouds=0.5), [270]))
    pipes = (266.0, 135.0, 373.0, 174.0)  # the pile, complete (source pixels)
    flt = TransientFilter(street[1].backend)
    found = flt.detect(frame, [pipes])
    assert not (iou_many(np.array(pipes), found) > 0).any()  # nothing over the pile
    giraffe = [i for i, n in flt.backend.names.items() if n == "giraffe"]
    dog = [i for i, n in flt.backend.names.items() if n == "dog"]
    assert giraffe[0] not in flt.min_conf and dog[0] in flt.min_conf
