// etape's networks: layers, models reflected with Boost.Hana, losses,
// optimizers, schedules, model files and data sets (docs/nn.md). Not
// included by etape/etape.hpp: a program that trains includes this.
#pragma once

#include <etape/etape.hpp>

#include <etape/nn/activation.hpp>
#include <etape/nn/batch_loader.hpp>
#include <etape/nn/conv2d.hpp>
#include <etape/nn/dataset.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/digits.hpp>
#include <etape/nn/dropout.hpp>
#include <etape/nn/embedding.hpp>
#include <etape/nn/fashion_mnist.hpp>
#include <etape/nn/flatten.hpp>
#include <etape/nn/init.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/model_file.hpp>
#include <etape/nn/normalization.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/optimizer_file.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/pooling.hpp>
#include <etape/nn/random.hpp>
#include <etape/nn/recurrent.hpp>
#include <etape/nn/reflect.hpp>
#include <etape/nn/schedule.hpp>
#include <etape/nn/sequential.hpp>
#include <etape/nn/shard.hpp>
#include <etape/nn/standardise.hpp>
#include <etape/nn/summary.hpp>
