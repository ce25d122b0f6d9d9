"""The demo's photo editor: a `gr.ImageEditor` whose photo is decoded by `fer.io`.

Gradio's editor opens uploads with PIL itself, before any callback runs: a broken file then gets
Gradio's generic error, EXIF orientation is ignored and 16-bit images are mangled. Here the photo
(background) and the composite go through `fer.io.load_image` (the project's one set of input
rules and messages); the drawing layers, RGBA PNGs made by the editor's canvas, go through
`fer.io.load_rgba` (same formats and pixel limit, alpha kept: it is what the user painted).
"""

from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData

from fer.errors import FERError
from fer.ui.validate import CheckedEditorData


class PhotoEditor(gr.ImageEditor):
    is_template = True  # rendered by the front end's ImageEditor
    data_model = CheckedEditorData  # a payload that is not an editor value gets a readable error

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        if file is None:
            return None
        from fer.io import load_image, load_rgba

        if not flatten_on_white:  # a drawing layer: decoded by fer.io too (same formats and pixel limit), alpha kept
            try:
                return load_rgba(file.path if isinstance(file, FileData) else bytes(file))
            except FERError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        try:
            return load_image(file.path if isinstance(file, FileData) else bytes(file))
        except FERError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
