"""3MF reading with lib3mf: build items, components, transforms, colours, units, bad and mesh-less packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from render_worker.config import Limits
from render_worker.errors import InputError
from render_worker.inputs import inspect_model
from render_worker.meshes import read_3mf

LIMITS = Limits()


def test_each_build_item_becomes_a_part_placed_by_its_transform(models, tmp_path: Path) -> None:
    # GIVEN one 10 mm cube placed twice, the second moved 30 mm along x
    path = models.write_3mf(tmp_path / "two.3mf", items=[models.translation(0, 0, 0), models.translation(30, 0, 0)])
    # WHEN it is read
    model = read_3mf(path, LIMITS)
    # THEN there are two parts of 12 triangles, the second offset by 30 mm
    assert [len(p.triangles) for p in model.parts] == [12, 12]
    assert model.triangle_count == 24
    np.testing.assert_allclose(model.parts[1].vertices - model.parts[0].vertices, np.tile([30, 0, 0], (8, 1)))


def test_component_transforms_compose_with_the_build_item(models, tmp_path: Path) -> None:
    # GIVEN a cube inside a component moved 5 mm in z, placed by a build item moved 7 mm in y
    path = models.write_3mf(
        tmp_path / "comp.3mf", items=[models.translation(0, 7, 0)], as_component=models.translation(0, 0, 5)
    )
    # WHEN it is read
    part = read_3mf(path, LIMITS).parts[0]
    # THEN the cube's corners moved by both
    np.testing.assert_allclose(part.vertices.min(axis=0), [0, 7, 5])
    np.testing.assert_allclose(part.vertices.max(axis=0), [10, 17, 15])


def test_a_colour_group_becomes_linear_corner_colours(models, tmp_path: Path) -> None:
    # GIVEN a cube coloured pure red through a colour group (object-level property)
    path = models.write_3mf(tmp_path / "red.3mf", colour=(255, 0, 0))
    # WHEN it is read
    colours = read_3mf(path, LIMITS).parts[0].corner_colors
    # THEN every corner is linear red, opaque
    assert colours is not None and colours.shape == (12, 3, 4)
    np.testing.assert_allclose(colours.reshape(-1, 4), np.tile([1, 0, 0, 1], (36, 1)), atol=1e-6)


def test_an_uncoloured_model_has_no_colour_attribute(models, tmp_path: Path) -> None:
    # GIVEN a plain cube WHEN it is read THEN no colours are carried
    assert read_3mf(models.write_3mf(tmp_path / "plain.3mf"), LIMITS).parts[0].corner_colors is None


def test_the_model_unit_is_reported_in_millimetres(models, tmp_path: Path) -> None:
    # GIVEN a cube modelled in inches WHEN it is read THEN one unit is 25.4 mm
    assert read_3mf(models.write_3mf(tmp_path / "in.3mf", unit="Inch"), LIMITS).unit_mm == 25.4


def test_xml_invalid_model_is_a_clear_input_error(models, tmp_path: Path) -> None:
    # GIVEN a well-formed package whose model part is broken XML
    path = models.write_raw_3mf(tmp_path / "broken.3mf", "<model><resources><object")
    # WHEN it is read THEN lib3mf's failure becomes an InputError naming the file
    with pytest.raises(InputError, match=r"broken.3mf is not a readable 3MF model"):
        read_3mf(path, LIMITS)


def test_a_model_without_meshes_is_rejected(models, tmp_path: Path) -> None:
    # GIVEN a valid 3MF with an empty build
    path = models.write_raw_3mf(tmp_path / "empty.3mf", models.EMPTY_MODEL_XML)
    # WHEN it is read THEN it says there is nothing to render
    with pytest.raises(InputError, match="is empty: it has 0 triangles"):
        read_3mf(path, LIMITS)


def test_an_object_without_triangles_beside_a_real_one_is_skipped_with_a_warning(models, tmp_path: Path) -> None:
    # GIVEN a cube and an empty mesh object, both in the build
    vertices = "".join(f'<vertex x="{x * 10}" y="{y * 10}" z="{z * 10}"/>' for x, y, z in models.CUBE_VERTICES)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in models.CUBE_TRIANGLES)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources>'
        f'<object id="1" type="model"><mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh>'
        '</object><object id="2" type="model"><mesh><vertices></vertices><triangles></triangles></mesh></object>'
        '</resources><build><item objectid="1"/><item objectid="2"/></build></model>'
    )
    # WHEN it is read
    model = read_3mf(models.write_raw_3mf(tmp_path / "with_empty.3mf", xml), LIMITS)
    # THEN only the cube is a part, and the skipped object is named in the warnings
    assert [len(p.triangles) for p in model.parts] == [12]
    assert any("without triangles: ids [2]" in w for w in model.warnings)


def test_a_rotated_build_item_applies_after_its_component_transform(models, tmp_path: Path) -> None:
    # GIVEN the cube moved 5 mm along x inside a component, and the build item rotating 90 degrees about z
    # (3MF transforms are row vectors: p' = [p 1] M)
    rotate_z = [[0, 1, 0], [-1, 0, 0], [0, 0, 1], [0, 0, 0]]
    path = models.write_3mf(tmp_path / "rot.3mf", items=[rotate_z], as_component=models.translation(5, 0, 0))
    # WHEN it is read
    part = read_3mf(path, LIMITS).parts[0]
    # THEN x in [5, 15] became y, and y in [0, 10] became -x (the other order or a transpose lands elsewhere)
    np.testing.assert_allclose(part.vertices.min(axis=0), [-10, 5, 0], atol=1e-5)
    np.testing.assert_allclose(part.vertices.max(axis=0), [0, 15, 10], atol=1e-5)


def test_instances_count_towards_the_triangle_budget(models, tmp_path: Path) -> None:
    # GIVEN a 12-triangle cube placed three times (36 triangles)
    path = models.write_3mf(tmp_path / "three.3mf", items=[models.translation(i * 20, 0, 0) for i in range(3)])
    # WHEN the budget is 30 triangles THEN it is rejected with the instance count
    with pytest.raises(InputError, match="has 36 triangles"):
        read_3mf(path, Limits(max_triangles=30))


def test_every_real_sample_loads_or_fails_cleanly(samples: Path) -> None:
    # GIVEN the 3MF Consortium samples
    outcomes: dict[str, int | str] = {}
    for path in sorted(samples.glob("*.3mf")):
        # WHEN each is pre-checked and read
        try:
            model = read_3mf(inspect_model(path, LIMITS).path, LIMITS)
            outcomes[path.name] = model.triangle_count
        except InputError as exc:
            outcomes[path.name] = str(exc)
    # THEN the geometry samples load with triangles, and cube_gears has its 25,692
    assert outcomes["cube_gears.3mf"] == 25692
    loaded = [name for name, result in outcomes.items() if isinstance(result, int)]
    assert len(loaded) >= 15, outcomes
    assert all(isinstance(r, str) or r > 0 for r in outcomes.values())
