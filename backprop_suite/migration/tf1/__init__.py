"""Running the old TF1 program in the child process: the contract's ``tf1_program()``, a script as
it is written, the Estimator API and ``tf.contrib`` that TensorFlow 2 no longer has, the input a
graph reads from inside itself, and the checkpoints it starts from."""
