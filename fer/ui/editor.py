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


# --- the Analyse click without the editor's export ---------------------------------------------------
# Sending the editor as an input makes Gradio's front end read its canvases back and upload them as PNGs
# (about 2 s of a 2.4 s click in headless Chromium). So the server keeps, per session, the editor value
# it last received (a `gr.State`, set by every event that sends the editor) and the page remembers
# which photo that was: the root of the editor's undo history, which Gradio starts afresh for each new
# photo. The visible button then presses one of two hidden ones: "kept" (no editor input) when the photo
# on the page is the kept one and nothing was drawn on it since (the history holds only the photo, or
# every stroke was undone), else "full" (the editor sent as before). Anything unexpected in the page
# (no editor object, another history shape) takes the full path.
_ROOT = """const cm = window.editor && window.editor.command_manager; let node = cm && cm.history, depth = 0;
  while (node && node.previous) { node = node.previous; depth++; }"""

ROUTE_CLICK_JS = "() => { " + _ROOT + """
  const kept = !!node && window.__ferKeptRoot === node && depth <= 1;
  document.getElementById(kept ? 'fer-run-kept' : 'fer-run-full').click(); }"""

REMEMBER_PHOTO_JS = "() => { " + _ROOT + " window.__ferKeptRoot = node || null; }"
