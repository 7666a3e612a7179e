package dev.hangar.backend.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.BatchnormLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ConcatLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ConvolutionLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.CustomLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType.ColorSpace;
import dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.PermuteLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.PoolingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ReshapeLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.SequenceFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.SizeRange;
import dev.hangar.backend.coreml.proto.CoreMlProto.StringFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.WeightParams;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the backend refuses: each refusal is a {@link ModelLoadException} of category USER_ERROR
 * that names the file, the layer, model type or feature at fault, and what is supported.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusalsTest {
  @TempDir static Path directory;
  private Runner runner;

  @BeforeAll
  void createRunner() {
    runner = new Runner(directory);
  }

  private void assertRefused(Model model, String... fragments) {
    ModelSource source = runner.write(model);
    var thrown =
        assertThatThrownBy(() -> runner.backend().load(source).close())
            .isInstanceOf(ModelLoadException.class)
            .hasMessageContaining(source.file().toString())
            .satisfies(
                e ->
                    assertThat(((HangarException) e).category())
                        .isEqualTo(ErrorCategory.USER_ERROR));
    for (String fragment : fragments) {
      thrown.hasMessageContaining(fragment);
    }
  }

  private static Model network(NeuralNetworkLayer.Builder... layers) {
    return Specs.network(List.of(Specs.floats("x", 4, 3, 3)), List.of(Specs.floats("y")), layers);
  }

  /** A layer of a type Hangar's schema does not declare, as a file from coremltools holds it. */
  private static NeuralNetworkLayer.Builder undeclaredLayer(String name, int fieldNumber) {
    return Specs.layer(name, "x", "y")
        .setUnknownFields(
            UnknownFieldSet.newBuilder()
                .addField(
                    fieldNumber,
                    UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.EMPTY).build())
                .build());
  }

  private static Model undeclaredModelType(int fieldNumber) {
    return Model.newBuilder()
        .setSpecificationVersion(1)
        .setDescription(
            Specs.description(List.of(Specs.floats("x", 2)), List.of(Specs.floats("y", 2))))
        .setUnknownFields(
            UnknownFieldSet.newBuilder()
                .addField(
                    fieldNumber,
                    UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.EMPTY).build())
                .build())
        .build();
  }

  // ------------------------------------------------------------------------------------------
  // layers

  @Test
  void customLayerIsRefusedNamingTheLayerAndItsClass() {
    assertRefused(
        network(
            Specs.layer("my_op", "x", "y")
                .setCustom(CustomLayerParams.newBuilder().setClassName("MyFancyLayer"))),
        "layer 'my_op'",
        "custom layer",
        "MyFancyLayer",
        "Supported layers: innerProduct, convolution");
  }

  @Test
  void layerTypeOutsideTheSchemaIsRefusedByName() {
    assertRefused(
        network(undeclaredLayer("recurrent", 410)),
        "layer 'recurrent' is a gru layer",
        "Supported layers: innerProduct");
    assertRefused(
        network(undeclaredLayer("later", 4321)),
        "layer 'later'",
        "unknown layer type (field 4321)");
  }

  @Test
  void unsupportedLayerOptionsAreRefusedNamingTheLayer() {
    assertRefused(
        network(
            Specs.layer("deconv", "x", "y")
                .setConvolution(
                    ConvolutionLayerParams.newBuilder()
                        .setOutputChannels(1)
                        .setKernelChannels(4)
                        .setIsDeconvolution(true)
                        .setWeights(Specs.weights(new float[36])))),
        "layer 'deconv' (convolution)",
        "deconvolution");
    assertRefused(
        network(
            Specs.layer("l2", "x", "y")
                .setPooling(
                    PoolingLayerParams.newBuilder().setType(PoolingLayerParams.PoolingType.L2))),
        "layer 'l2' (pooling)",
        "L2 pooling",
        "supported: MAX, AVERAGE");
    assertRefused(
        network(
            Specs.layer("bn", "x", "y")
                .setBatchnorm(
                    BatchnormLayerParams.newBuilder()
                        .setChannels(4)
                        .setComputeMeanVar(true)
                        .setGamma(Specs.weights(new float[4]))
                        .setBeta(Specs.weights(new float[4])))),
        "layer 'bn' (batchnorm)",
        "whole batch");
  }

  @Test
  void layersThatWouldLengthenTheSequenceOfARank5NetworkAreRefused() {
    assertRefused(
        Specs.network(
            List.of(Specs.floats("a", 1, 1, 1), Specs.floats("b", 1, 1, 1)),
            List.of(Specs.floats("y")),
            Specs.layer("seq", List.of("a", "b"), "y")
                .setConcat(ConcatLayerParams.newBuilder().setSequenceConcat(true))),
        "layer 'seq' (concat)",
        "sequence axis");
    assertRefused(
        network(
            Specs.layer("reshape", "x", "y")
                .setReshape(
                    ReshapeLayerParams.newBuilder()
                        .addTargetShape(2)
                        .addTargetShape(2)
                        .addTargetShape(3)
                        .addTargetShape(3))),
        "layer 'reshape' (reshape)",
        "sequence axis 2 long");
    assertRefused(
        network(
            Specs.layer("permute", "x", "y")
                .setPermute(
                    PermuteLayerParams.newBuilder().addAxis(1).addAxis(0).addAxis(2).addAxis(3))),
        "layer 'permute' (permute)",
        "sequence axis 4 long");
  }

  @Test
  void quantizedWeightsAreRefused() {
    assertRefused(
        Specs.network(
            List.of(Specs.floats("x", 2)),
            List.of(Specs.floats("y", 2)),
            Specs.layer("dense", "x", "y")
                .setInnerProduct(
                    InnerProductLayerParams.newBuilder()
                        .setInputChannels(2)
                        .setOutputChannels(2)
                        .setWeights(
                            WeightParams.newBuilder()
                                .setRawValue(ByteString.copyFrom(new byte[] {1, 2, 3, 4}))
                                .setQuantization(ByteString.copyFrom(new byte[] {8, 8}))))),
        "layer 'dense' (innerProduct) weights",
        "quantized");
  }

  @Test
  void anUnknownSettingOfASupportedLayerIsRefusedRatherThanIgnored() {
    // int8DynamicQuantize (field 22) of innerProduct, added in a later specification
    NeuralNetworkLayer.Builder layer =
        Specs.layer("dense", "x", "y")
            .setInnerProduct(
                InnerProductLayerParams.newBuilder()
                    .setInputChannels(36)
                    .setOutputChannels(1)
                    .setWeights(Specs.weights(new float[36]))
                    .setUnknownFields(
                        UnknownFieldSet.newBuilder()
                            .addField(22, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                            .build()));
    assertRefused(network(layer), "InnerProductLayerParams", "sets field 22", "layers['dense']");
  }

  // ------------------------------------------------------------------------------------------
  // model types

  @Test
  void mlProgramIsRefused() {
    Model program =
        Model.newBuilder()
            .setSpecificationVersion(6)
            .setDescription(
                Specs.description(List.of(Specs.floats("x", 2)), List.of(Specs.floats("y", 2))))
            .setMlProgram(ByteString.copyFromUtf8("a MIL program"))
            .build();
    assertRefused(program, "ML Program", "mlProgram", ".mlpackage", "convert_to='neuralnetwork'");
  }

  @Test
  void unsupportedModelTypesAreRefusedByName() {
    assertRefused(
        undeclaredModelType(401),
        "supportVectorClassifier",
        "Supported model types: neuralNetwork");
    assertRefused(undeclaredModelType(404), "kNearestNeighborsClassifier");
    assertRefused(undeclaredModelType(2002), "visionFeaturePrint");
    Model custom =
        Model.newBuilder()
            .setSpecificationVersion(3)
            .setDescription(
                Specs.description(List.of(Specs.floats("x", 2)), List.of(Specs.floats("y", 2))))
            .setCustomModel(ByteString.EMPTY)
            .build();
    assertRefused(custom, "customModel");
    Model none =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(List.of(Specs.floats("x", 2)), List.of(Specs.floats("y", 2))))
            .build();
    assertRefused(none, "model without a type");
  }

  @Test
  void multiFunctionModelsAreRefused() {
    Model.Builder model =
        Specs.network(
            List.of(Specs.floats("x", 2)),
            List.of(Specs.floats("y", 2)),
            Specs.layer("relu", "x", "y")
                .setActivation(
                    ActivationParams.newBuilder().setReLU(ActivationReLU.getDefaultInstance())))
            .toBuilder();
    model.getDescriptionBuilder().addFunctions(ByteString.copyFromUtf8("main"));
    assertRefused(model.build(), "several functions");
  }

  // ------------------------------------------------------------------------------------------
  // features

  @Test
  void unsupportedInputTypesAreRefusedNamingTheInput() {
    FeatureDescription sequence =
        Specs.feature(
            "tokens",
            FeatureType.newBuilder()
                .setSequenceType(
                    SequenceFeatureType.newBuilder()
                        .setStringType(StringFeatureType.getDefaultInstance())
                        .setSizeRange(SizeRange.newBuilder().setLowerBound(1).setUpperBound(8)))
                .build());
    Model identity =
        Model.newBuilder()
            .setSpecificationVersion(3)
            .setDescription(Specs.description(List.of(sequence), List.of(sequence)))
            .setIdentity(dev.hangar.backend.coreml.proto.CoreMlProto.Identity.getDefaultInstance())
            .build();
    assertRefused(
        identity,
        "input 'tokens' is a Sequence feature",
        "supported input types: MultiArray (FLOAT32, DOUBLE, INT32, FLOAT16, INT8)");
    Model dictionary =
        identity.toBuilder()
            .setDescription(
                Specs.description(
                    List.of(Specs.dictionary("counts", true)),
                    List.of(Specs.dictionary("counts", true))))
            .build();
    assertRefused(dictionary, "input 'counts' is a Dictionary feature");
    Model halfGray =
        Specs.network(
            List.of(Specs.image("photo", ColorSpace.GRAYSCALE_FLOAT16, 2, 2)),
            List.of(Specs.floats("y")),
            Specs.layer("relu", "photo", "y")
                .setActivation(
                    ActivationParams.newBuilder().setReLU(ActivationReLU.getDefaultInstance())));
    assertRefused(halfGray, "image feature 'photo'", "GRAYSCALE_FLOAT16");
  }

  @Test
  void imageOutputsAreRefused() {
    Model model =
        Specs.network(
            List.of(Specs.image("photo", ColorSpace.RGB, 2, 2)),
            List.of(Specs.image("styled", ColorSpace.RGB, 2, 2)),
            Specs.layer("relu", "photo", "styled")
                .setActivation(
                    ActivationParams.newBuilder().setReLU(ActivationReLU.getDefaultInstance())));
    assertRefused(model, "output 'styled'", "network outputs must be MultiArrays");
  }

  // ------------------------------------------------------------------------------------------
  // files

  @Test
  void aDirectoryIsRefusedAsAnMlPackage() throws IOException {
    Path mlpackage = Files.createDirectories(directory.resolve("Model.mlpackage"));
    assertThatThrownBy(() -> runner.backend().load(ModelSource.of("package", 1, mlpackage)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("Model.mlpackage")
        .hasMessageContaining(".mlpackage")
        .satisfies(
            e -> assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.USER_ERROR));
  }
}
