"""Writes the image-format fixtures with Pillow (pip install pillow), the reference decoder TroL's
preprocessing follows. Run from this folder: python3 generate.py

One 40x30 picture with at most 256 colours (so GIF holds it exactly) is saved as PNG, lossless
WebP, GIF, animated GIF and WebP (first frame = the picture), and BMP in several layouts. For each
file, `<name>.rgb` holds Pillow's `Image.open(f).convert("RGB")` bytes, the golden the Swift
decoder is compared with (for the lossless files these equal the PNG's pixels).
"""
from PIL import Image
import PIL

W, H = 40, 30
img = Image.new("RGB", (W, H))
px = img.load()
for y in range(H):
    for x in range(W):
        # Blocks of distinct colours plus a coarse diagonal ramp: few enough colours for GIF,
        # varied enough that a swapped channel or flipped row shows.
        px[x, y] = ((x // 5) * 32 % 256, (y // 5) * 40 % 256, ((x + y) // 7) * 28 % 256)
assert len(img.getcolors(256)) <= 256

img.save("picture.png")
img.save("picture-lossless.webp", lossless=True)
img.save("picture-lossy.webp", quality=80)
img.quantize(256, dither=Image.Dither.NONE).save("picture.gif")
img.save("picture-24.bmp")
img.quantize(256, dither=Image.Dither.NONE).save("picture-8.bmp")
img.convert("RGBA").save("picture-32.bmp")
second = Image.new("RGB", (W, H), (255, 0, 0))
img.save("animated.gif", save_all=True, append_images=[second], duration=100, loop=0)
img.save("animated.webp", save_all=True, append_images=[second], duration=100, loop=0, lossless=True)

for name in ["picture.png", "picture-lossless.webp", "picture-lossy.webp", "picture.gif",
             "picture-24.bmp", "picture-8.bmp", "picture-32.bmp", "animated.gif", "animated.webp"]:
    with Image.open(name) as f:
        rgb = f.convert("RGB")
        assert rgb.size == (W, H), name
        open(name.rsplit(".", 1)[0] + "." + name.rsplit(".", 1)[1] + ".rgb", "wb").write(rgb.tobytes())
print("Pillow", PIL.__version__)
