package dev.hangar.backend.coreml;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plain Java implementations of CoreML layer semantics, written from the CoreML specification's
 * text, for computing expected outputs independently of the compiler and of ONNX Runtime. Tensors
 * are row-major float arrays of shape [N, C, H, W].
 */
final class Reference {
  private Reference() {}

  /** A 4-d tensor. */
  record Tensor4(int n, int c, int h, int w, float[] data) {
    Tensor4 {
      if (data.length != n * c * h * w) {
        throw new IllegalArgumentException("size");
      }
    }

    static Tensor4 zeros(int n, int c, int h, int w) {
      return new Tensor4(n, c, h, w, new float[n * c * h * w]);
    }

    float get(int b, int ch, int y, int x) {
      return data[((b * c + ch) * h + y) * w + x];
    }

    void set(int b, int ch, int y, int x, float value) {
      data[((b * c + ch) * h + y) * w + x] = value;
    }

    long[] shape() {
      return new long[] {n, c, h, w};
    }

    boolean inside(int y, int x) {
      return y >= 0 && y < h && x >= 0 && x < w;
    }
  }

  /** y = W x + b, W of [outputs, inputs]. */
  static float[] dense(
      float[] x, int rows, int inputs, float[] weights, float[] bias, int outputs) {
    float[] y = new float[rows * outputs];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < outputs; o++) {
        double sum = bias == null ? 0 : bias[o];
        for (int i = 0; i < inputs; i++) {
          sum += (double) weights[o * inputs + i] * x[r * inputs + i];
        }
        y[r * outputs + o] = (float) sum;
      }
    }
    return y;
  }

  /** Padding amounts [top, left, bottom, right] and the output size of a window layer. */
  record Window(int top, int left, int bottom, int right, int outH, int outW) {}

  /** CoreML "valid" padding with explicit amounts. */
  static Window valid(
      int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right) {
    return new Window(
        top,
        left,
        bottom,
        right,
        (h + top + bottom - kh) / sh + 1,
        (w + left + right - kw) / sw + 1);
  }

  /** CoreML "same" padding: output ceil(in / stride), extra padding at the end or the start. */
  static Window same(int h, int w, int kh, int kw, int sh, int sw, boolean topLeftHeavy) {
    int outH = (h + sh - 1) / sh;
    int outW = (w + sw - 1) / sw;
    int totalH = Math.max(0, (outH - 1) * sh + kh - h);
    int totalW = Math.max(0, (outW - 1) * sw + kw - w);
    int top = topLeftHeavy ? totalH - totalH / 2 : totalH / 2;
    int left = topLeftHeavy ? totalW - totalW / 2 : totalW / 2;
    return new Window(top, left, totalH - top, totalW - left, outH, outW);
  }

  /** CoreML "includeLastPixel" padding: symmetric amounts, Caffe's ceil-mode output size. */
  static Window includeLastPixel(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    int outH = ceilDiv(h + 2 * ph - kh, sh) + 1;
    int outW = ceilDiv(w + 2 * pw - kw, sw) + 1;
    if (ph > 0 || pw > 0) {
      if ((outH - 1) * sh >= h + ph) {
        outH--;
      }
      if ((outW - 1) * sw >= w + pw) {
        outW--;
      }
    }
    return new Window(ph, pw, ph, pw, outH, outW);
  }

  private static int ceilDiv(int a, int b) {
    return Math.floorDiv(a + b - 1, b);
  }

  /** Convolution: weights [outputs, inputs / groups, kh, kw], zero padding. */
  static Tensor4 convolution(
      Tensor4 x,
      float[] weights,
      float[] bias,
      int outputs,
      int kh,
      int kw,
      int sh,
      int sw,
      int dh,
      int dw,
      int groups,
      Window window) {
    int perGroupIn = x.c() / groups;
    int perGroupOut = outputs / groups;
    Tensor4 y = Tensor4.zeros(x.n(), outputs, window.outH(), window.outW());
    for (int b = 0; b < x.n(); b++) {
      for (int o = 0; o < outputs; o++) {
        int group = o / perGroupOut;
        for (int i = 0; i < window.outH(); i++) {
          for (int j = 0; j < window.outW(); j++) {
            double sum = bias == null ? 0 : bias[o];
            for (int ci = 0; ci < perGroupIn; ci++) {
              for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++) {
                  int yy = i * sh - window.top() + ki * dh;
                  int xx = j * sw - window.left() + kj * dw;
                  if (x.inside(yy, xx)) {
                    sum +=
                        (double) x.get(b, group * perGroupIn + ci, yy, xx)
                            * weights[((o * perGroupIn + ci) * kh + ki) * kw + kj];
                  }
                }
              }
            }
            y.set(b, o, i, j, (float) sum);
          }
        }
      }
    }
    return y;
  }

  /**
   * Max or average pooling. Max ignores padded cells. Average divides by the number of cells of the
   * window inside the input when {@code excludePadding}, else by the window's size clipped to the
   * padded input (Caffe's rule, which CoreML's pooling follows).
   */
  static Tensor4 pool(
      Tensor4 x,
      boolean max,
      int kh,
      int kw,
      int sh,
      int sw,
      Window window,
      boolean excludePadding) {
    Tensor4 y = Tensor4.zeros(x.n(), x.c(), window.outH(), window.outW());
    for (int b = 0; b < x.n(); b++) {
      for (int ch = 0; ch < x.c(); ch++) {
        for (int i = 0; i < window.outH(); i++) {
          for (int j = 0; j < window.outW(); j++) {
            int startH = i * sh - window.top();
            int startW = j * sw - window.left();
            int endH = Math.min(startH + kh, x.h() + window.bottom());
            int endW = Math.min(startW + kw, x.w() + window.right());
            int padded = (endH - startH) * (endW - startW);
            double sum = 0;
            double best = Double.NEGATIVE_INFINITY;
            int inside = 0;
            for (int yy = Math.max(startH, 0); yy < Math.min(endH, x.h()); yy++) {
              for (int xx = Math.max(startW, 0); xx < Math.min(endW, x.w()); xx++) {
                float value = x.get(b, ch, yy, xx);
                sum += value;
                best = Math.max(best, value);
                inside++;
              }
            }
            float result;
            if (max) {
              result = (float) best;
            } else {
              result = (float) (sum / (excludePadding ? inside : padded));
            }
            y.set(b, ch, i, j, result);
          }
        }
      }
    }
    return y;
  }

  /** Softmax over the channel axis of [N, C, H, W]. */
  static Tensor4 softmaxChannels(Tensor4 x) {
    Tensor4 y = Tensor4.zeros(x.n(), x.c(), x.h(), x.w());
    for (int b = 0; b < x.n(); b++) {
      for (int i = 0; i < x.h(); i++) {
        for (int j = 0; j < x.w(); j++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int ch = 0; ch < x.c(); ch++) {
            max = Math.max(max, x.get(b, ch, i, j));
          }
          double total = 0;
          for (int ch = 0; ch < x.c(); ch++) {
            total += Math.exp(x.get(b, ch, i, j) - max);
          }
          for (int ch = 0; ch < x.c(); ch++) {
            y.set(b, ch, i, j, (float) (Math.exp(x.get(b, ch, i, j) - max) / total));
          }
        }
      }
    }
    return y;
  }

  static void assertClose(float[] actual, float[] expected, double tolerance) {
    assertThat(actual).as("number of values").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i])
          .as("value " + i + " (expected " + expected[i] + ", got " + actual[i] + ")")
          .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tolerance));
    }
  }
}
