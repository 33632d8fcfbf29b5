"""Real data for the Python benchmark drivers, written to a work dir.

fashion_mnist_images: each of the 10,000 Fashion-MNIST test images
(/usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist) as a
28x28 PGM file of its own, the bytes of the IDX file behind a PGM header.
"""
import gzip, os

FASHION_MNIST_TEST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def fashion_mnist_images(work):
    """Writes WORK/images/NNNNN.pgm; returns their paths in image order."""
    with gzip.open(FASHION_MNIST_TEST, "rb") as f:
        raw = f.read()
    out_dir = os.path.join(work, "images")
    os.makedirs(out_dir)
    paths = []
    for i in range(int.from_bytes(raw[4:8], "big")):
        path = os.path.join(out_dir, "%05d.pgm" % i)
        with open(path, "wb") as out:
            out.write(b"P5\n28 28\n255\n" + raw[16 + i * 784:16 + (i + 1) * 784])
        paths.append(path)
    return paths
