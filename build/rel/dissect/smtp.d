build/rel/dissect/smtp.o: dissect/smtp.c dissect/dissect.h dissect/line.h
dissect/dissect.h:
dissect/line.h:
