#!/usr/bin/env bash
# How models/fer_cnn.{keras,tflite,metrics.json} were made (CPU, 2 cores, about 2 hours):
# 1. train 20 epochs with a fixed seed on FER-2013's training split (warm-up + cosine schedule),
#    keeping the epoch with the best validation accuracy;
# 2. fine-tune 5 epochs from those weights with a small learning rate (a warm restart);
# 3. export int8 LiteRT, choose flip TTA and fit the softmax temperature on the validation split.
# Each stage resumes from models/.<name>.work/ if interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013_train_val.npz}
uv run --group dev fer-desktop train --data "$DATA" --epochs 20 --seed 1337 --name fer_cnn_stage1
uv run --group dev fer-desktop train --data "$DATA" --epochs 5 --seed 1337 --lr 3e-4 \
    --warmup-epochs 0 --init-weights models/.fer_cnn_stage1.work/best.weights.h5 --name fer_cnn
uv run --group dev fer-desktop calibrate --data "$DATA" --model models/fer_cnn.tflite
uv run --group dev fer-desktop evaluate "$DATA" --split val --model models/fer_cnn.tflite
