package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.SizeRange;
import dev.hangar.spi.DataType;
import java.util.List;

/**
 * How CoreML feature types map onto Hangar tensors. Every feature gets a batch dimension 0:
 *
 * <ul>
 *   <li>Double: FP64 {@code [N]}; Int64: INT64 {@code [N]}; String: BYTES {@code [N]}
 *   <li>MultiArray of shape D: {@code [N, D...]}, FLOAT32/DOUBLE/INT32/FLOAT16/INT8 as
 *       FP32/FP64/INT32/FP16/INT8
 *   <li>Image H x W: UINT8 {@code [N, H, W, C]}, C = 3 (RGB order) or 1 (grayscale)
 *   <li>Dictionary (a classifier's probabilities): FP32 {@code [N, K]} in class-label order
 * </ul>
 *
 * Flexible sizes (enumerated shapes or sizes, ranges) become free dimensions (-1) wherever the
 * allowed sizes differ.
 */
final class Features {
  /** The feature types a model input may have, for messages. */
  static final String SUPPORTED_INPUTS =
      "MultiArray (FLOAT32, DOUBLE, INT32, FLOAT16, INT8), Double, Int64, String and Image"
          + " (GRAYSCALE, RGB, BGR)";

  private Features() {}

  /** Returns the Hangar tensor type of a MultiArray data type. */
  static DataType arrayType(ArrayFeatureType array, String feature) {
    return switch (array.getDataType()) {
      case FLOAT32 -> DataType.FP32;
      case DOUBLE -> DataType.FP64;
      case INT32 -> DataType.INT32;
      case FLOAT16 -> DataType.FP16;
      case INT8 -> DataType.INT8;
      case INVALID_ARRAY_DATA_TYPE ->
          throw new UnsupportedModelException(
              "feature '" + feature + "' is a MultiArray without a data type");
      case UNRECOGNIZED ->
          throw new UnsupportedModelException(
              "feature '"
                  + feature
                  + "' is a MultiArray of data type code "
                  + array.getDataTypeValue()
                  + describeUnknownArrayCode(array.getDataTypeValue())
                  + ", which CoreML does not define; CoreML arrays hold FLOAT32, DOUBLE, INT32,"
                  + " FLOAT16 or INT8 (Hangar FP32, FP64, INT32, FP16, INT8)");
    };
  }

  private static String describeUnknownArrayCode(int code) {
    int family = code >>> 16;
    int bits = code & 0xFFFF;
    if (family == 1) {
      return " (a " + bits + "-bit float, FP" + bits + ")";
    }
    if (family == 2) {
      return " (a " + bits + "-bit signed integer, INT" + bits + ")";
    }
    return "";
  }

  /** Returns the declared dimensions of a MultiArray, -1 where flexible. */
  static long[] arrayDimensions(ArrayFeatureType array, String feature) {
    switch (array.getShapeFlexibilityCase()) {
      case ENUMERATEDSHAPES -> {
        List<ArrayFeatureType.Shape> shapes = array.getEnumeratedShapes().getShapesList();
        if (shapes.isEmpty()) {
          throw new UnsupportedModelException(
              "feature '" + feature + "' has an empty list of enumerated shapes");
        }
        int rank = shapes.get(0).getShapeCount();
        long[] dimensions = new long[rank];
        for (int d = 0; d < rank; d++) {
          dimensions[d] = shapes.get(0).getShape(d);
        }
        for (ArrayFeatureType.Shape shape : shapes) {
          if (shape.getShapeCount() != rank) {
            throw new UnsupportedModelException(
                "feature '"
                    + feature
                    + "' enumerates shapes of different ranks; Hangar needs one rank per input");
          }
          for (int d = 0; d < rank; d++) {
            if (shape.getShape(d) != dimensions[d]) {
              dimensions[d] = -1;
            }
          }
        }
        return dimensions;
      }
      case SHAPERANGE -> {
        List<SizeRange> ranges = array.getShapeRange().getSizeRangesList();
        long[] dimensions = new long[ranges.size()];
        for (int d = 0; d < dimensions.length; d++) {
          dimensions[d] = fixedOrFree(ranges.get(d));
        }
        return dimensions;
      }
      default -> {
        long[] dimensions = new long[array.getShapeCount()];
        for (int d = 0; d < dimensions.length; d++) {
          long dimension = array.getShape(d);
          dimensions[d] = dimension > 0 ? dimension : -1;
        }
        return dimensions;
      }
    }
  }

  /** The height, width and channel count of an image feature, -1 where flexible. */
  record ImageGeometry(long height, long width, int channels, ImageFeatureType.ColorSpace space) {}

  static ImageGeometry imageGeometry(ImageFeatureType image, String feature) {
    int channels =
        switch (image.getColorSpace()) {
          case GRAYSCALE -> 1;
          case RGB, BGR -> 3;
          case GRAYSCALE_FLOAT16 ->
              throw new UnsupportedModelException(
                  "image feature '"
                      + feature
                      + "' is GRAYSCALE_FLOAT16, which Hangar does not support; supported color"
                      + " spaces: GRAYSCALE, RGB, BGR (taken as UINT8 [N, H, W, C])");
          default ->
              throw new UnsupportedModelException(
                  "image feature '" + feature + "' has no valid color space");
        };
    long height = image.getHeight();
    long width = image.getWidth();
    switch (image.getSizeFlexibilityCase()) {
      case ENUMERATEDSIZES -> {
        var sizes = image.getEnumeratedSizes().getSizesList();
        if (sizes.isEmpty()) {
          throw new UnsupportedModelException(
              "image feature '" + feature + "' has an empty list of enumerated sizes");
        }
        height = sizes.get(0).getHeight();
        width = sizes.get(0).getWidth();
        for (var size : sizes) {
          if (size.getHeight() != height) {
            height = -1;
          }
          if (size.getWidth() != width) {
            width = -1;
          }
        }
      }
      case IMAGESIZERANGE -> {
        height = fixedOrFree(image.getImageSizeRange().getHeightRange());
        width = fixedOrFree(image.getImageSizeRange().getWidthRange());
      }
      default -> {
        if (height <= 0 || width <= 0) {
          throw new UnsupportedModelException(
              "image feature '" + feature + "' has no size (" + width + " x " + height + ")");
        }
      }
    }
    return new ImageGeometry(height, width, channels, image.getColorSpace());
  }

  private static long fixedOrFree(SizeRange range) {
    return range.getUpperBound() >= 0 && range.getUpperBound() == range.getLowerBound()
        ? range.getLowerBound()
        : -1;
  }

  /** Returns a short description of a feature type for messages, such as {@code Int64}. */
  static String describe(FeatureType type) {
    return switch (type.getTypeCase()) {
      case INT64TYPE -> "Int64";
      case DOUBLETYPE -> "Double";
      case STRINGTYPE -> "String";
      case IMAGETYPE -> "Image";
      case MULTIARRAYTYPE -> "MultiArray";
      case DICTIONARYTYPE -> "Dictionary";
      case SEQUENCETYPE -> "Sequence";
      case STATETYPE -> "State";
      case TYPE_NOT_SET -> "a feature without a type";
    };
  }

  /**
   * Returns the batched kind and type of a scalar or array input feature, refusing the types Hangar
   * cannot take as input.
   */
  static FeatureValue.Kind inputKind(FeatureDescription feature) {
    FeatureType type = feature.getType();
    return switch (type.getTypeCase()) {
      case INT64TYPE -> FeatureValue.Kind.INT64;
      case DOUBLETYPE -> FeatureValue.Kind.DOUBLE;
      case STRINGTYPE -> FeatureValue.Kind.STRING;
      case IMAGETYPE -> FeatureValue.Kind.IMAGE;
      case MULTIARRAYTYPE -> FeatureValue.Kind.ARRAY;
      default ->
          throw new UnsupportedModelException(
              "input '"
                  + feature.getName()
                  + "' is a "
                  + describe(type)
                  + " feature, which Hangar cannot take as input; supported input types: "
                  + SUPPORTED_INPUTS);
    };
  }

  /** Returns the batched tensor type and shape of an input feature. */
  static FeatureValue inputValue(FeatureDescription feature) {
    FeatureValue.Kind kind = inputKind(feature);
    String name = feature.getName();
    FeatureType type = feature.getType();
    return switch (kind) {
      case INT64 -> new FeatureValue(name, kind, DataType.INT64, new long[] {-1});
      case DOUBLE -> new FeatureValue(name, kind, DataType.FP64, new long[] {-1});
      case STRING -> new FeatureValue(name, kind, DataType.BYTES, new long[] {-1});
      case IMAGE -> {
        ImageGeometry geometry = imageGeometry(type.getImageType(), name);
        yield new FeatureValue(
            name,
            kind,
            DataType.UINT8,
            new long[] {-1, geometry.height(), geometry.width(), geometry.channels()});
      }
      case ARRAY -> {
        long[] dimensions = arrayDimensions(type.getMultiArrayType(), name);
        if (dimensions.length == 0) {
          throw new UnsupportedModelException(
              "input '" + name + "' is a MultiArray without a shape");
        }
        yield new FeatureValue(
            name, kind, arrayType(type.getMultiArrayType(), name), prepend(-1, dimensions));
      }
      case PROBABILITIES -> throw new IllegalStateException();
    };
  }

  static long[] prepend(long first, long[] rest) {
    long[] all = new long[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
