"""The demo's photo editor: a `gr.ImageEditor` whose photo is decoded by `fer.io`.

Gradio's editor opens uploads with PIL itself, before any callback runs: a broken file then gets
Gradio's generic error, EXIF orientation is ignored and 16-bit images are mangled. Here the photo
(background) and the composite go through `fer.io.load_image` (the project's one set of input
rules and messages); the drawing layers, RGBA PNGs made by the editor's canvas, keep Gradio's
decoding so their alpha (what the user painted) survives.
"""

from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData

from fer.errors import FERError


class PhotoEditor(gr.ImageEditor):
    is_template = True  # rendered by the front end's ImageEditor

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        if file is None:
            return None
        if not flatten_on_white:  # a drawing layer
            try:
                return super().convert_and_format_image(file, flatten_on_white)
            except Exception:
                raise gr.Error("A drawing layer could not be read; clear the drawing and try again.", print_exception=False) from None
        from fer.io import load_image

        try:
            return load_image(file.path if isinstance(file, FileData) else bytes(file))
        except FERError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
