"""The course export: the course structure JSON and the Studio-style OLX tarball."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import tarfile
import xml.etree.ElementTree as ET

from edxflow.demo.ids import course_parts
from edxflow.demo.model import Block, Course
from edxflow.demo.times import iso_z


def course_structure_bytes(course: Course) -> bytes:
    structure = {
        block.key: {
            "category": block.category,
            "children": list(block.children),
            "metadata": block.metadata,
        }
        for block in course.blocks.values()
    }
    return json.dumps(structure, indent=2, ensure_ascii=False).encode("utf-8")


def xml_bytes(element: ET.Element) -> bytes:
    ET.indent(element)
    return ET.tostring(element, encoding="utf-8", xml_declaration=False) + b"\n"


def problem_xml(block: Block) -> ET.Element:
    spec = block.problem
    problem = ET.Element(
        "problem", display_name=block.display_name, markdown="null", max_attempts="3", weight="1.0"
    )
    for question, correct in zip(spec.questions, spec.correct):
        if spec.response_type in ("numericalresponse", "stringresponse"):
            response = ET.SubElement(problem, spec.response_type, answer=correct)
            ET.SubElement(response, "label").text = question
            ET.SubElement(response, spec.input_type, size="20")
        elif spec.response_type == "optionresponse":
            response = ET.SubElement(problem, "optionresponse")
            ET.SubElement(response, "label").text = question
            ET.SubElement(
                response,
                "optioninput",
                options="(" + ",".join(f"'{c}'" for c in spec.choices) + ")",
                correct=correct,
            )
        else:
            response = ET.SubElement(problem, spec.response_type)
            ET.SubElement(response, "label").text = question
            group = ET.SubElement(response, spec.input_type)
            if spec.input_type == "choicegroup":
                group.set("type", "MultipleChoice")
            right = correct if isinstance(correct, list) else [correct]
            for index, text in enumerate(spec.choices):
                ET.SubElement(
                    group, "choice", correct=str(f"choice_{index}" in right).lower()
                ).text = text
    solution = ET.SubElement(
        ET.SubElement(problem, "solution"), "div", {"class": "detailed-solution"}
    )
    solution.text = "See the lecture notes."
    return problem


def olx_attribute(key: str, value) -> str:
    """Studio writes dates JSON-quoted and booleans in lower case."""
    if key in ("start", "due"):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def olx_files(course: Course) -> dict[str, bytes]:
    """Relative path -> content of a Studio-style OLX export of the course."""
    org, number, run = course_parts(course.course_id)
    files = {"course.xml": xml_bytes(ET.Element("course", url_name=run, org=org, course=number))}
    root = ET.Element(
        "course",
        display_name=course.display_name,
        language="en",
        start=json.dumps(iso_z(course.start)),
        end=json.dumps(iso_z(course.end)),
    )
    for chapter_key in course.root.children:
        ET.SubElement(root, "chapter", url_name=course.blocks[chapter_key].url_name)
    files[f"course/{run}.xml"] = xml_bytes(root)
    for block in course.blocks.values():
        if block.category in ("chapter", "sequential", "vertical"):
            element = ET.Element(block.category, display_name=block.display_name)
            for key in ("start", "due", "format", "graded"):
                if key in block.metadata:
                    element.set(key, olx_attribute(key, block.metadata[key]))
            for child_key in block.children:
                child = course.blocks[child_key]
                ET.SubElement(element, child.category, url_name=child.url_name)
            files[f"{block.category}/{block.url_name}.xml"] = xml_bytes(element)
        elif block.category == "problem":
            files[f"problem/{block.url_name}.xml"] = xml_bytes(problem_xml(block))
        elif block.category == "video":
            files[f"video/{block.url_name}.xml"] = xml_bytes(
                ET.Element(
                    "video",
                    url_name=block.url_name,
                    display_name=block.display_name,
                    youtube=f"1.00:{block.youtube_id}",
                    youtube_id_1_0=block.youtube_id,
                    download_video="false",
                )
            )
        elif block.category == "html":
            files[f"html/{block.url_name}.xml"] = xml_bytes(
                ET.Element("html", filename=block.url_name, display_name=block.display_name)
            )
            files[f"html/{block.url_name}.html"] = (
                f"<p>{block.display_name}: read this first.</p>\n".encode()
            )
    policy = {
        f"course/{run}": {
            key: value for key, value in course.root.metadata.items() if value is not None
        }
    }
    files[f"policies/{run}/policy.json"] = json.dumps(policy, indent=4).encode()
    files[f"policies/{run}/grading_policy.json"] = json.dumps(
        course.grading_policy, indent=4
    ).encode()
    files["policies/assets.json"] = b"{}\n"
    return files


def tarball_bytes(top_dir: str, files: dict[str, bytes], mtime: dt.datetime) -> bytes:
    """A deterministic .tar.gz: fixed mtimes, owners and gzip header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            parents = {
                "/".join(name.split("/")[:depth])
                for name in files
                for depth in range(1, name.count("/") + 1)
            }
            directories = [top_dir] + sorted(f"{top_dir}/{parent}" for parent in parents)
            for name in directories:
                info = tarfile.TarInfo(name)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(mtime.timestamp())
                tar.addfile(info)
            for name, content in sorted(files.items()):
                info = tarfile.TarInfo(f"{top_dir}/{name}")
                info.size, info.mode, info.mtime = len(content), 0o644, int(mtime.timestamp())
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
