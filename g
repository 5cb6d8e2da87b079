tick
tick
tick
tick
tick
