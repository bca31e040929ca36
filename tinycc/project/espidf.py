"""`--project esp-idf`: the model as an ESP-IDF component.

The directory is a component: its CMakeLists.txt registers the model's two
C files with `idf_component_register` and exports its own folder (model.h)
as the include directory. An application adds it under `components/<name>/`
(or through `EXTRA_COMPONENT_DIRS`) and `REQUIRES <name>`. `example/main.c`
is an `app_main` running the example inference, printing on the console;
it is not part of the component (it belongs in the application's `main`).

The weights are `const` arrays in `.rodata.tinycc`, which ESP-IDF's linker
places in flash with the rest of `.rodata`.
"""

from __future__ import annotations

from tinycc.project.base import MODEL_SOURCES, Project
from tinycc.project.example import ESP_IDF, main_c

IDF_TARGETS = ("esp32", "esp32s3")  # presets named like `idf.py set-target`
EXAMPLE_MAIN = "example/main.c"


def files(project: Project, example_from: str) -> dict[str, str]:
    """CMakeLists.txt, example/main.c and README.md."""
    name = project.name
    steps = (
        f"Add it to an ESP-IDF application: copy this folder to the "
        f"application's `components/{name}/` (or list its path in "
        f"`EXTRA_COMPONENT_DIRS`), add `REQUIRES {name}` to the "
        "`idf_component_register` of the component that calls the model, "
        f'`#include "model.h"` there, and build with `idf.py set-target '
        f"{project.preset.name} build`."
    )
    readme = project.readme(
        {
            "CMakeLists.txt": "the component (`idf_component_register`)",
            EXAMPLE_MAIN: "an `app_main` for the application's `main` component "
            f"(`REQUIRES {name}`): one inference on the input it holds, the "
            "outputs printed on the console",
        },
        [steps],
    )
    return {
        "CMakeLists.txt": component(project),
        EXAMPLE_MAIN: main_c(project, ESP_IDF, example_from),
        "README.md": readme,
    }


def component(project: Project) -> str:
    about = [
        f"An ESP-IDF component: copy this folder to components/{project.name}/",
        "of the application (README.md).",
    ]
    sources = " ".join(f'"{source}"' for source in MODEL_SOURCES)
    register = "idf_component_register("
    indent = " " * len(register)
    return (
        f"{project.banner('#', about)}\n"
        f"{register}SRCS {sources}\n"
        f'{indent}INCLUDE_DIRS ".")\n'
    )
