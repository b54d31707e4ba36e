"""3MF reading with lib3mf: build items, components, transforms, colours, units, bad and mesh-less packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from render_worker import meshes
from render_worker.config import Limits
from render_worker.errors import InputError
from render_worker.inputs import inspect_model
from render_worker.meshes import read_3mf, srgb_to_linear

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


def _no_placements(model: object) -> None:
    raise AssertionError("a placement was built before the bounds were checked")


@pytest.mark.parametrize(("levels", "instances"), [(6, 262_144), (7, 2_097_152)])
def test_nested_instances_past_the_bound_are_refused_before_any_placement_is_built(
    models, lib3mf_loaded: None, tmp_path: Path, levels: int, instances: int, monkeypatch
) -> None:
    # GIVEN a ~1 KB 3MF whose components place a 4-triangle mesh 8 times per level, `levels` deep
    path = models.write_nested_3mf(tmp_path / "nest.3mf", fanout=8, levels=levels)
    monkeypatch.setattr(meshes, "_placements", _no_placements)
    # WHEN it is read with the default bounds
    with pytest.raises(InputError) as refused:
        read_3mf(path, LIMITS)
    # THEN it is refused from the counts alone (no placement built), naming the instance count, bound and setting
    assert f"places {instances} mesh instances" in str(refused.value)
    assert "over the limit of 10000 (raise RENDER_MAX_INSTANCES" in str(refused.value)


def test_nested_triangles_are_counted_with_their_multiplicity_before_anything_is_placed(
    models, lib3mf_loaded: None, tmp_path: Path, monkeypatch
) -> None:
    # GIVEN 8^5 nested instances of a 4-triangle mesh (131,072 triangles), instances allowed
    path = models.write_nested_3mf(tmp_path / "nest.3mf", fanout=8, levels=5)
    monkeypatch.setattr(meshes, "_placements", _no_placements)
    # WHEN the triangle budget is 100,000 THEN it is refused before any of the 32,768 placements is built
    with pytest.raises(InputError, match=r"has 131072 triangles \(instances counted\), over the limit of 100000"):
        read_3mf(path, Limits(max_instances=10**6, max_triangles=100_000))


def test_nested_components_within_the_bounds_expand_to_every_instance(models, tmp_path: Path) -> None:
    # GIVEN a mesh placed twice per level, three levels deep
    path = models.write_nested_3mf(tmp_path / "nest.3mf", fanout=2, levels=3)
    # WHEN it is read THEN all 8 instances are parts, and the shared counts match them
    model = read_3mf(path, LIMITS)
    assert (len(model.parts), model.triangle_count) == (8, 32)
    assert sorted({float(p.vertices[:, 0].min()) for p in model.parts}) == [0.0, 12.0, 24.0, 36.0]


def test_components_nested_past_the_depth_bound_are_refused(models, tmp_path: Path) -> None:
    # GIVEN one mesh under 17 levels of single components
    path = models.write_nested_3mf(tmp_path / "deep.3mf", fanout=1, levels=17)
    # WHEN it is read THEN the depth bound is named
    with pytest.raises(InputError, match=r"deep.3mf nests 3MF components deeper than the limit of 16 levels"):
        read_3mf(path, LIMITS)


def test_vertices_count_towards_the_bound_with_their_instances(models, tmp_path: Path) -> None:
    # GIVEN a cube mesh carrying 92 unused vertices besides its 8 corners, placed twice (200 vertices, 24 triangles)
    vertices = np.vstack([models.CUBE_VERTICES, np.full((92, 3), 0.5)])
    path = models.write_3mf(tmp_path / "heavy.3mf", items=[models.translation(0, 0, 0)] * 2, vertices=vertices)
    # WHEN the triangle budget is 30 (so at most 90 vertices)
    # THEN the vertices are refused before any is copied
    with pytest.raises(InputError, match=r"has 200 vertices \(instances counted\), over the limit of 90"):
        read_3mf(path, Limits(max_triangles=30))


def _linear(rgb: tuple[int, int, int]) -> list[float]:
    return [*srgb_to_linear(np.array(rgb) / 255.0), 1.0]


def test_default_materials_of_objects_resolve_through_their_own_resource(models, tmp_path: Path) -> None:
    # GIVEN a cube whose object defaults to the third base material (blue) with one cyan triangle from a colour
    # group, and a cube defaulting to the colour group's first colour (yellow); resource ids differ from property ids
    path = models.write_materials_3mf(tmp_path / "materials.3mf")
    # WHEN it is read
    model = read_3mf(path, LIMITS)
    # THEN each triangle has its own or its object's colour, with no property-type warning
    first, second = (p.corner_colors for p in model.parts)
    assert first is not None and second is not None
    np.testing.assert_allclose(first[0], np.tile(_linear(models.CYAN), (3, 1)), atol=1e-6)
    np.testing.assert_allclose(first[1:].reshape(-1, 4), np.tile(_linear(models.BLUE), (33, 1)), atol=1e-6)
    np.testing.assert_allclose(second.reshape(-1, 4), np.tile(_linear(models.YELLOW), (36, 1)), atol=1e-6)
    assert model.warnings == ()


def test_a_model_of_beam_lattices_only_says_beams_are_not_rendered(models, tmp_path: Path) -> None:
    # GIVEN a 3MF whose only object is a two-beam lattice WHEN it is read
    # THEN the refusal says what it holds and that beam lattices are not rendered (not "empty")
    with pytest.raises(InputError, match=r"holds only beam lattices \(2 beams, 0 triangles\): beam lattices are not"):
        read_3mf(models.write_beam_3mf(tmp_path / "lattice.3mf"), LIMITS)


def test_beam_lattices_beside_meshes_are_skipped_with_a_warning(models, tmp_path: Path) -> None:
    # GIVEN a beam lattice and a cube WHEN it is read
    model = read_3mf(models.write_beam_3mf(tmp_path / "both.3mf", with_cube=True), LIMITS)
    # THEN the cube renders and the warning names the skipped beams
    assert model.triangle_count == 12
    assert any("2 beam(s) of beam lattices are not rendered" in w for w in model.warnings)


@pytest.mark.parametrize(
    ("vertices", "message"),
    [
        (np.zeros((8, 3)), r"all its vertices coincide \(a zero-size bounding box\)"),
        (np.column_stack([np.arange(8.0), np.zeros(8), np.zeros(8)]), "none of its triangles has an area"),
        (np.repeat(np.arange(8.0)[:, None], 3, axis=1), "none of its triangles has an area"),
    ],
    ids=["one point", "a line along x", "the diagonal x = y = z"],
)
def test_degenerate_geometry_is_refused_by_name(models, tmp_path: Path, vertices: np.ndarray, message: str) -> None:
    # GIVEN the cube's triangles over vertices on one point, or on one line (whose bounding box may be a cube)
    path = models.write_3mf(tmp_path / "flat.3mf", vertices=vertices)
    # WHEN it is read THEN it is refused as degenerate geometry, not rendered as blank views
    with pytest.raises(InputError, match=f"flat.3mf has degenerate geometry: {message}"):
        read_3mf(path, LIMITS)


def test_a_few_sound_triangles_among_degenerate_ones_are_enough_to_render(models, tmp_path: Path) -> None:
    # GIVEN a cube whose 8th vertex is moved onto the 1st, so only the triangles not using it keep an area
    vertices = models.CUBE_VERTICES.copy()
    vertices[7] = vertices[0]
    # WHEN it is read THEN it loads
    assert read_3mf(models.write_3mf(tmp_path / "dented.3mf", vertices=vertices), LIMITS).triangle_count == 12


def test_a_flat_model_is_not_degenerate(models, tmp_path: Path) -> None:
    # GIVEN the cube squashed onto the z = 0 plane WHEN it is read THEN it loads (a plane has an area to show)
    vertices = models.CUBE_VERTICES * [1, 1, 0]
    assert read_3mf(models.write_3mf(tmp_path / "plane.3mf", vertices=vertices), LIMITS).triangle_count == 12
