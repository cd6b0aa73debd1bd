"""The two commands' behaviour around the generators: defaults, refusals, exit statuses."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from tests.provider.javaapi.classbytes import ClassBytes

APP = "tests.provider.javaapi.api_sample:SampleService"


def test_java_api_default_coordinates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["java-api", "--out", str(tmp_path / "api"), "--app", APP]) == 0
    pom = (tmp_path / "api" / "pom.xml").read_text()
    version = importlib.metadata.version("dubbo-recsys")  # tests/ is no distribution: the project's own
    assert "<groupId>org.dubborecsys.test.javaapi</groupId>" in pom
    assert "<artifactId>sample-service-api</artifactId>" in pom and f"<version>{version}</version>" in pom
    assert f"org.dubborecsys.test.javaapi:sample-service-api:{version}, 8 Java files" in capsys.readouterr().out


def test_java_api_takes_classes_objects_lists_and_factories(tmp_path: Path) -> None:
    for index, app in enumerate(
        [
            APP,  # a class: not instantiated
            "tests.provider.javaapi.test_commands:AS_LIST",
            "dubbo_recsys.provider.services:RecommendService",
        ]
    ):
        assert main(["java-api", "--out", str(tmp_path / str(index)), "--app", app]) == 0, app


def _sample_service() -> object:
    from tests.provider.javaapi.api_sample import SampleService

    return SampleService()


AS_LIST = [_sample_service()]


def test_java_api_refuses_a_folder_with_files_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["java-api", "--out", str(tmp_path)]) == 2
    assert "is not an empty folder" in capsys.readouterr().err
    assert main(["java-api", "--out", str(tmp_path / "a"), "--app", "no_such_module:x"]) == 2
    assert "no module named 'no_such_module'" in capsys.readouterr().err
    assert main(["java-api", "--out", str(tmp_path / "b"), "--group-id", "a b"]) == 2
    assert "groupId 'a b'" in capsys.readouterr().err
    assert (
        main(["java-api", "--out", str(tmp_path / "c"), "--app", "tests.provider.javaapi.api_sample:KeywordService"])
        == 2
    )
    assert "cannot be declared in Java" in capsys.readouterr().err


def _jar_dir(root: Path) -> Path:
    api = ClassBytes("org/x/Api", access=0x0601)
    api.method("ping", "(Ljava/lang/String;)Ljava/lang/String;")
    (root / "classes" / "org" / "x").mkdir(parents=True)
    (root / "classes" / "org" / "x" / "Api.class").write_bytes(api.build())
    return root / "classes"


def test_import_java_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    classes = _jar_dir(tmp_path)
    out = tmp_path / "api_py"
    assert main(["import-java", str(classes), "--out", str(out)]) == 0
    assert "serve --app api_py.service:services" in capsys.readouterr().out
    (out / "service.py").write_text("# filled in by hand\n")
    assert main(["import-java", str(classes), "--out", str(out)]) == 2
    assert "already has __init__.py, contract.py, service.py" in capsys.readouterr().err
    assert (out / "service.py").read_text() == "# filled in by hand\n"
    assert main(["import-java", str(classes), "--out", str(out), "--force"]) == 0
    assert "class Api(Service" in (out / "service.py").read_text()


def test_import_java_refuses_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    classes = _jar_dir(tmp_path)
    assert main(["import-java", str(classes), "--out", str(tmp_path / "not-a-name")]) == 2
    assert "'not-a-name' is no Python package name" in capsys.readouterr().err
    assert main(["import-java", str(classes), "--out", str(tmp_path / "p"), "--interface", "org.x.Nope"]) == 1
    assert "not an interface in the given class files: org.x.Nope" in capsys.readouterr().err
    assert main(["import-java", str(tmp_path / "absent.jar"), "--out", str(tmp_path / "q")]) == 1
    assert "absent.jar" in capsys.readouterr().err
