build/rel/dissect/smtp.o: dissect/smtp.c dissect/dissect.h \
 dissect/common.h dissect/line.h dissect/sasl.h
dissect/dissect.h:
dissect/common.h:
dissect/line.h:
dissect/sasl.h:
