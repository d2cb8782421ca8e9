build/rel/dissect/line.o: dissect/line.c dissect/line.h dissect/dissect.h
dissect/line.h:
dissect/dissect.h:
