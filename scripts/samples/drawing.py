"""Text on Pillow drawings, shared by the image and video sets: Pillow's own font (the same
glyphs everywhere), words wrapped to a width."""

from __future__ import annotations

from PIL import ImageDraw, ImageFont


def text_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])
