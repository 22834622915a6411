"""The small labeled image set (golden_sets/images/), drawn with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from cope_eval._util.atomic_files import replace_atomic

from .drawing import text_font, wrap
from .tables import media_table, write_csv

SIZE = (480, 360)
IMAGE_DIR = "golden_sets/images/img"

# (id, file, kind, label, item text, drawing, alt text)
IMAGES = [
    ("img-01", "meme-01.png", "meme", 1, "", ("meme", "WHEN @jordan_k JOINS THE CHAT", "NOBODY WANTS YOU HERE. LOG OFF FOREVER", (70, 90, 140)),
     "Meme telling a tagged user nobody wants them and to log off forever."),
    ("img-02", "meme-02.png", "meme", 0, "", ("meme", "WHEN THE CODE COMPILES", "ON THE FIRST TRY", (40, 120, 80)),
     "Benign programming meme."),
    ("img-03", "meme-03.png", "meme", 1, "", ("meme", "@mia.draws YOUR ART IS TRASH", "AND SO ARE YOU. QUIT.", (130, 60, 60)),
     "Meme insulting a tagged artist and telling her to quit."),
    ("img-04", "meme-04.png", "meme", 0, "", ("meme", "MONDAY MORNING", "NEEDS MORE COFFEE", (150, 110, 50)),
     "Benign meme about Monday mornings."),
    ("img-05", "chat-01.png", "screenshot", 1, "", ("chat", "Sam", ["I saw where you live.", "Everyone at school will know what you did.", "Answer me or else."]),
     "Chat screenshot with intimidating messages to the recipient."),
    ("img-06", "chat-02.png", "screenshot", 0, "", ("chat", "Alex", ["Are we still on for lunch?", "I'll bring the snacks!", "See you at noon"]),
     "Friendly chat screenshot about lunch plans."),
    ("img-07", "post-01.png", "screenshot", 1, "", ("post", "throwaway_991", "Everyone go flood @lee_writes with DMs until she deletes her account. Make it hurt."),
     "Forum post calling for a pile-on against a named user."),
    ("img-08", "post-02.png", "screenshot", 0, "", ("post", "coach_dana", "Great game last night! Proud of the whole team. Practice moves to 6pm Thursday."),
     "Forum post congratulating a sports team."),
    ("img-09", "post-03.png", "screenshot", 0, "", ("post", "mod_team", "Reminder: harassment is not okay here. Report abusive DMs and we will act on them."),
     "Moderator post against harassment (counter-speech)."),
    ("img-10", "picture-01.png", "picture", 0, "", ("sunset",),
     "Drawing of a sunset over hills."),
    ("img-11", "picture-02.png", "picture", 0, "", ("house",),
     "Drawing of a house with a tree."),
    ("img-12", "meme-05.png", "meme", 1, "look at this loser lol", ("meme", "@tom_r TRIED TO READ", "A WHOLE BOOK. BRAIN FAILED.", (90, 90, 90)),
     "Meme mocking a tagged user's intelligence, posted with a mocking caption."),
]


def _draw_meme(top: str, bottom: str, color) -> Image.Image:
    img = Image.new("RGB", SIZE, color)
    draw = ImageDraw.Draw(img)
    draw.ellipse((170, 110, 310, 250), fill=(235, 200, 160), outline=(40, 40, 40), width=3)
    draw.ellipse((205, 150, 220, 165), fill=(40, 40, 40))
    draw.ellipse((260, 150, 275, 165), fill=(40, 40, 40))
    draw.arc((205, 175, 275, 225), 200, 340, fill=(40, 40, 40), width=3)
    font = text_font(30)
    for text, anchor_y, from_top in ((top, 12, True), (bottom, SIZE[1] - 12, False)):
        lines = wrap(draw, text, font, SIZE[0] - 30)
        height = 34 * len(lines)
        y = anchor_y if from_top else anchor_y - height
        for line in lines:
            x = (SIZE[0] - draw.textlength(line, font=font)) / 2
            draw.text((x, y), line, font=font, fill="white", stroke_width=2, stroke_fill="black")
            y += 34
    return img


def _draw_chat(sender: str, messages: list[str]) -> Image.Image:
    img = Image.new("RGB", SIZE, (245, 245, 245))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, SIZE[0], 48), fill=(60, 110, 200))
    draw.text((16, 12), sender, font=text_font(22), fill="white")
    font = text_font(18)
    y = 66
    for message in messages:
        lines = wrap(draw, message, font, 300)
        box = (16, y, 16 + 24 + max(draw.textlength(x, font=font) for x in lines), y + 16 + 24 * len(lines))
        draw.rounded_rectangle(box, radius=12, fill=(225, 225, 232))
        for k, line in enumerate(lines):
            draw.text((28, y + 8 + 24 * k), line, font=font, fill=(20, 20, 20))
        y = box[3] + 14
    return img


def _draw_post(user: str, body: str) -> Image.Image:
    img = Image.new("RGB", SIZE, (250, 250, 247))
    draw = ImageDraw.Draw(img)
    draw.ellipse((16, 16, 60, 60), fill=(120, 160, 120))
    draw.text((72, 24), user, font=text_font(20), fill=(30, 30, 30))
    draw.line((16, 74, SIZE[0] - 16, 74), fill=(200, 200, 200), width=2)
    font = text_font(22)
    for k, line in enumerate(wrap(draw, body, font, SIZE[0] - 40)):
        draw.text((20, 90 + 30 * k), line, font=font, fill=(20, 20, 20))
    return img


def _draw_sunset() -> Image.Image:
    img = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(img)
    for y in range(SIZE[1]):
        t = y / SIZE[1]
        draw.line((0, y, SIZE[0], y), fill=(int(250 - 80 * t), int(150 - 90 * t), int(80 + 60 * t)))
    draw.ellipse((190, 170, 290, 270), fill=(255, 210, 90))
    draw.polygon([(0, 360), (0, 250), (140, 200), (300, 260), (480, 210), (480, 360)], fill=(60, 50, 80))
    return img


def _draw_house() -> Image.Image:
    img = Image.new("RGB", SIZE, (170, 215, 245))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 280, 480, 360), fill=(90, 170, 80))
    draw.rectangle((140, 170, 320, 300), fill=(220, 190, 150), outline=(80, 60, 40), width=3)
    draw.polygon([(125, 175), (230, 90), (335, 175)], fill=(170, 60, 50))
    draw.rectangle((210, 230, 250, 300), fill=(110, 70, 40))
    draw.rectangle((160, 200, 195, 230), fill=(250, 250, 210))
    draw.rectangle((270, 200, 305, 230), fill=(250, 250, 210))
    draw.rectangle((385, 210, 400, 300), fill=(110, 80, 50))
    draw.ellipse((350, 140, 435, 230), fill=(50, 130, 60))
    return img


def draw(spec) -> Image.Image:
    kind, *args = spec
    return {"meme": _draw_meme, "chat": _draw_chat, "post": _draw_post,
            "sunset": _draw_sunset, "house": _draw_house}[kind](*args)


def build_images(root: Path) -> Path:
    folder = root / IMAGE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for _, file, _, _, _, spec, _ in IMAGES:
        buffer = io.BytesIO()
        draw(spec).quantize(colors=64, dither=Image.Dither.NONE).save(buffer, format="PNG", optimize=True)
        replace_atomic(folder / file, buffer.getvalue())
    return write_csv(media_table(IMAGES, "image", IMAGE_DIR), root / "golden_sets" / "images" / "harassment-images.csv")
